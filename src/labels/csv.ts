/**
 * A small RFC 4180 reader for the label files (`posguard label --csv`): quoted
 * fields with "" escapes and embedded commas or newlines, CRLF or LF. Three
 * columns and at most MAX_CSV_ROWS rows do not warrant a dependency; every
 * record keeps the line it started on, for error messages.
 */
export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fields: string[];
}

export type CsvResult = { ok: true; records: CsvRecord[] } | { ok: false; line: number; problem: string };

export function parseCsv(text: string): CsvResult {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let startLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a spreadsheet's byte-order mark
  let quoted = false;
  let sawQuote = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !sawQuote)) records.push({ line: startLine, fields });
    fields = [];
    field = '';
    sawQuote = false;
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else { if (c === '\n') line++; field += c; }
      continue;
    }
    if (c === '"') {
      if (field !== '') return { ok: false, line, problem: 'a quote inside an unquoted field (quote the whole field and double the quote: "a ""b""")' };
      quoted = true;
      sawQuote = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      startLine = line;
    } else {
      field += c;
    }
  }
  if (quoted) return { ok: false, line: startLine, problem: 'a quoted field is not closed before the end of the file' };
  endRecord();
  return { ok: true, records };
}
