/**
 * What posguard writes may hold card-adjacent data (tokens, masked PANs,
 * dead-letter payloads, the embedded database): folders it creates are
 * 0700 and files 0600, readable by the owner only, whatever the umask.
 * A file that already exists is narrowed to 0600 when posguard rewrites it;
 * an existing folder is left as its owner set it, except the embedded
 * database's folder (narrowPrivateDirSync), which holds every table.
 */
import { chmodSync, fchmodSync, mkdirSync, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p, new folders 0700. */
export function mkdirPrivateSync(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Narrows an existing folder that group or others may read to 0700, if this
 * process owns it. Returns what it did, in one line to log, or null.
 */
export function narrowPrivateDirSync(dir: string): string | null {
  const st = statSync(dir);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) === 0 || st.uid !== process.getuid?.()) return null;
  chmodSync(dir, PRIVATE_DIR_MODE);
  return `${dir} was ${mode.toString(8).padStart(4, '0')} (readable by others); narrowed to 0700`;
}

export async function mkdirPrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Narrows an open file to 0600 (it may have existed with wider permissions). */
export function privateFd(fd: number): void {
  fchmodSync(fd, PRIVATE_FILE_MODE);
}

/** Writes a whole file, created (or narrowed) to 0600 before a byte is written. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const fh = await open(path, 'w', PRIVATE_FILE_MODE);
  try {
    await fh.chmod(PRIVATE_FILE_MODE);
    await fh.writeFile(text, 'utf8');
  } finally {
    await fh.close();
  }
}

/** Opens a file for writing, 0600, truncating it (for streamed writes). */
export async function openPrivateFile(path: string): Promise<Awaited<ReturnType<typeof open>>> {
  const fh = await open(path, 'w', PRIVATE_FILE_MODE);
  await fh.chmod(PRIVATE_FILE_MODE);
  return fh;
}

