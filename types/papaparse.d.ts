// The part of papaparse (5.x) that src/sources/formats/csv.ts uses: its low-level incremental parser.
// (@types/papaparse describes the whole API; this is all we call, so no extra dependency.)
declare module "papaparse" {
  namespace Papa {
    interface ParseError {
      type: string;
      code: string;
      message: string;
      row?: number;
      index?: number;
    }
    interface ParseResult<T> {
      data: T[];
      errors: ParseError[];
      meta: { cursor: number; aborted: boolean; truncated?: boolean };
    }
    class Parser {
      constructor(config: { delimiter: string; newline: "\n" | "\r\n" | "\r"; quoteChar: string });
      /** `ignoreLastRow`: keep a record that may continue in the next chunk for the next call. */
      parse(input: string, baseIndex: number, ignoreLastRow: boolean): ParseResult<string[]>;
    }
  }
  const Papa: { Parser: typeof Papa.Parser };
  export default Papa;
}
