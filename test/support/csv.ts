// The one CSV reader of the tests, strict on purpose: what it accepts is RFC 4180 exactly, so a
// test reading stockwatch's CSV also checks that it is well formed.

/**
 * RFC 4180: fields separated by commas, records ended by CRLF (the last one too), quoted fields
 * with "" for a quote. A leading byte order mark (which stockwatch writes for spreadsheets) is
 * dropped; anything else out of place (a bare CR or LF, a quote inside an unquoted field, an
 * unterminated quote, a last record without CRLF) throws.
 */
export function parseCsv(text: string): string[][] {
  const src = text.startsWith("\ufeff") ? text.slice(1) : text;
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < src.length) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        field += c;
        i += 1;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
      i += 1;
    } else if (c === ",") {
      record.push(field);
      field = "";
      i += 1;
    } else if (c === "\r" && src[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i += 2;
    } else if (c === '"' || c === "\r" || c === "\n") {
      throw new Error(`CSV: unexpected ${JSON.stringify(c)} at offset ${i}`);
    } else {
      field += c;
      i += 1;
    }
  }
  if (quoted) throw new Error("CSV: unterminated quote");
  if (field !== "" || record.length > 0)
    throw new Error("CSV: last record does not end with CRLF");
  return records;
}
