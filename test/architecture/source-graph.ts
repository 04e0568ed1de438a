/**
 * Reads `src/` once with TypeScript's own parser: every file's imports (value,
 * type-only, re-exports, `import()` and `import('…').T` types, since a type
 * import ties two layers as much as a value import) and the length of every
 * function. Used by the architecture tests; nothing here runs project code.
 *
 * Parsing alone (no type checker) keeps the pass well under a second for the
 * whole tree; import paths are resolved the way NodeNext resolves ours: a
 * relative specifier ending in `.js` names the `.ts` file beside it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export const REPO_ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');
export const SRC_DIR = join(REPO_ROOT, 'src');

/** One import edge between two files of `src/`, paths relative to the repository root. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly typeOnly: boolean;
}

/** One function-like node and its length in lines (first to last line, both included). */
export interface FunctionSize {
  readonly file: string;
  /** Qualified and stable across edits above it: `Class.method`, `outer.inner`, `register.action(callback)`. */
  readonly name: string;
  readonly line: number;
  readonly lines: number;
}

export interface SourceFileFacts {
  readonly path: string;
  readonly lines: number;
  readonly imports: readonly ImportEdge[];
  readonly functions: readonly FunctionSize[];
}

/** Every `.ts` file under `src/`, sorted, as repository-relative paths with `/`. */
export function listSourceFiles(): string[] {
  return readdirSync(SRC_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => toRepoPath(join(SRC_DIR, f)))
    .sort();
}

let cached: SourceFileFacts[] | null = null;

/** Parses the whole tree once per test process. */
export function readSourceTree(): SourceFileFacts[] {
  cached ??= listSourceFiles().map(readSourceFile);
  return cached;
}

export function readSourceFile(path: string): SourceFileFacts {
  const text = readFileSync(join(REPO_ROOT, path), 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  return { path, lines: countLines(text), imports: importsOf(sf, path), functions: functionsOf(sf, path) };
}

/** Lines as an editor numbers them: a final newline does not open another line. */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

function toRepoPath(abs: string): string {
  return relative(REPO_ROOT, abs).split(sep).join('/');
}

function lineOf(sf: ts.SourceFile, pos: number): number {
  return sf.getLineAndCharacterOfPosition(pos).line + 1;
}

/** `./x.js` → `src/…/x.ts`; a package name (no leading `.`) gives null. */
function resolveSpecifier(fromPath: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const abs = resolve(REPO_ROOT, dirname(fromPath), specifier);
  const candidates = [abs.replace(/\.js$/, '.ts'), `${abs}.ts`, join(abs, 'index.ts')];
  return toRepoPath(candidates.find((c) => existsSync(c)) ?? abs);
}

function importsOf(sf: ts.SourceFile, path: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const add = (spec: ts.Expression | undefined, node: ts.Node, typeOnly: boolean): void => {
    if (spec === undefined || !ts.isStringLiteralLike(spec)) return;
    const to = resolveSpecifier(path, spec.text);
    if (to !== null) edges.push({ from: path, to, line: lineOf(sf, node.getStart(sf)), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, node, true);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], node, false);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression;

function isFunctionLike(node: ts.Node): node is FunctionLike {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

function textOfName(name: ts.Node | undefined, sf: ts.SourceFile): string | null {
  if (name === undefined) return null;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteralLike(name) || ts.isNumericLiteral(name)) return name.text;
  return name.getText(sf);
}

/** What a reader would call this function, without line numbers (they move with every edit). */
function ownName(node: FunctionLike, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const declared = textOfName(node.name, sf);
  if (declared !== null) return ts.isGetAccessorDeclaration(node) ? `get ${declared}` : ts.isSetAccessorDeclaration(node) ? `set ${declared}` : declared;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return textOfName(parent.name, sf) ?? '<anonymous>';
  }
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) {
    const callee = parent.expression;
    const calleeName = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : 'call';
    return `${calleeName}(callback)`;
  }
  return '<anonymous>';
}

/** The named class, function or object literal key around a node, for qualified names. */
function containerName(node: ts.Node, sf: ts.SourceFile): string | null {
  if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) return textOfName(node.name, sf) ?? '<class>';
  if (isFunctionLike(node)) return ownName(node, sf);
  const objectLiteralHolder = ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node) || ts.isPropertyDeclaration(node);
  if (objectLiteralHolder && node.initializer !== undefined && ts.isObjectLiteralExpression(node.initializer)) return textOfName(node.name, sf);
  return null;
}

function functionsOf(sf: ts.SourceFile, path: string): FunctionSize[] {
  const out: FunctionSize[] = [];
  const seen = new Map<string, number>();
  const visit = (node: ts.Node, scope: readonly string[]): void => {
    const here = containerName(node, sf);
    const inner = here === null ? scope : [...scope, here];
    if (isFunctionLike(node) && node.body !== undefined) {
      const base = inner.join('.');
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      const first = lineOf(sf, node.getStart(sf));
      const last = lineOf(sf, node.getEnd());
      out.push({ file: path, name: n === 1 ? base : `${base}#${n}`, line: first, lines: last - first + 1 });
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(sf, []);
  return out;
}
