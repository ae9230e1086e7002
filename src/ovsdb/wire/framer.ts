/**
 * Splits a byte stream into back-to-back top-level JSON values (what ovsdb-server writes: one
 * JSON object after another, no delimiter).
 *
 * Works on raw bytes, so a multibyte UTF-8 character split across two chunks is never decoded
 * half: every byte that matters for framing ( { } [ ] " \ and digits) is ASCII, and every byte of
 * a multibyte UTF-8 sequence is >= 0x80, so scanning bytes cannot mistake one for the other.
 * A value is decoded to text only once it is complete.
 *
 * Linear in input: each byte is looked at once (inside strings by native indexOf searches); the state (nesting depth, inside a
 * string, after a backslash, length of the current run of digits) is carried across chunks, so
 * a 200 MB initial monitor dump arriving in 64 KiB chunks is never rescanned.
 */
import { isUtf8 } from 'node:buffer';
import { OvsdbProtocolError } from '../errors.js';

/** A run of this many digits may be an integer beyond 2^53 (9007199254740992 has 16 digits). */
const LONG_DIGIT_RUN = 16;

export interface FramerOptions {
  /** Largest single JSON value accepted, in bytes (default 500 MiB: V8 strings top out just under 512 Mi characters). */
  maxValueBytes?: number;
  /** Deepest nesting accepted; OVSDB messages nest about 6 deep. */
  maxDepth?: number;
}

/** Receives each complete value: its text and whether it holds a digit run long enough to need bigint parsing. */
export type FramedValueSink = (text: string, hasLongNumber: boolean) => void;

const CH_QUOTE = 0x22;
const CH_BACKSLASH = 0x5c;
const CH_LBRACE = 0x7b;
const CH_RBRACE = 0x7d;
const CH_LBRACKET = 0x5b;
const CH_RBRACKET = 0x5d;
const CH_0 = 0x30;
const CH_9 = 0x39;

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

export class JsonFramer {
  private readonly maxValueBytes: number;
  private readonly maxDepth: number;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private digitRun = 0;
  private longNumber = false;
  /** Pieces of the value in progress that arrived in earlier chunks. */
  private pieces: Uint8Array[] = [];
  private pieceBytes = 0;
  private failure: OvsdbProtocolError | undefined;

  constructor(opts: FramerOptions = {}) {
    this.maxValueBytes = opts.maxValueBytes ?? 500 * 1024 * 1024;
    this.maxDepth = opts.maxDepth ?? 1000;
  }

  /** Bytes of an incomplete value held back, waiting for more input. */
  get bufferedBytes(): number {
    return this.pieceBytes;
  }

  /** True while a value has started but not ended (useful to tell a truncated stream from a clean end). */
  get inValue(): boolean {
    return this.depth > 0;
  }

  /**
   * Feeds one chunk; calls `sink` for every value it completes, in order. Throws
   * OvsdbProtocolError on input that can never become valid framing; after that the framer
   * stays failed (the stream position is lost, so nothing after it can be trusted).
   */
  push(chunk: Uint8Array, sink: FramedValueSink): void {
    if (this.failure) throw this.failure;
    try {
      this.scan(chunk, sink);
    } catch (err) {
      this.failure =
        err instanceof OvsdbProtocolError
          ? err
          : new OvsdbProtocolError(`framing failed: ${(err as Error).message}`, { cause: err });
      this.pieces = [];
      this.pieceBytes = 0;
      throw this.failure;
    }
  }

  private scan(buf: Uint8Array, sink: FramedValueSink): void {
    const n = buf.length;
    // start of the value in progress within this chunk (0 when it began in an earlier chunk)
    let start = this.depth > 0 ? 0 : -1;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let digitRun = this.digitRun;
    let longNumber = this.longNumber;
    // next backslash / quote at or after the scan position (n when none): found with the
    // native indexOf and reused until passed, so each byte is searched at most once per kind
    let nextBackslash = -1;
    let nextQuote = -1;
    let i = 0;
    while (i < n) {
      if (inString) {
        // strings are most of the bytes of a dump: jump from quote to quote with native
        // searches instead of looking at every byte
        if (escaped) {
          escaped = false;
          i++;
          continue;
        }
        if (nextBackslash < i) {
          nextBackslash = buf.indexOf(CH_BACKSLASH, i);
          if (nextBackslash < 0) nextBackslash = n;
        }
        if (nextQuote < i) {
          nextQuote = buf.indexOf(CH_QUOTE, i);
          if (nextQuote < 0) nextQuote = n;
        }
        if (nextBackslash < nextQuote) {
          // the byte after the backslash is escaped (it may be in the next chunk)
          i = nextBackslash + 1;
          escaped = true;
          continue;
        }
        if (nextQuote === n) {
          i = n;
          break;
        }
        inString = false;
        i = nextQuote + 1;
        continue;
      }
      const c = buf[i]!;
      if (depth === 0) {
        if (isWhitespace(c)) {
          i++;
          continue;
        }
        if (c !== CH_LBRACE && c !== CH_LBRACKET) {
          throw new OvsdbProtocolError(
            `expected '{' or '[' to start a JSON value, got ${describeByte(c)} (byte ${i} of the chunk)`,
          );
        }
        depth = 1;
        start = i;
        digitRun = 0;
        longNumber = false;
        i++;
        continue;
      }
      i++;
      if (c >= CH_0 && c <= CH_9) {
        if (++digitRun >= LONG_DIGIT_RUN) longNumber = true;
        continue;
      }
      digitRun = 0;
      if (c === CH_QUOTE) {
        inString = true;
      } else if (c === CH_LBRACE || c === CH_LBRACKET) {
        if (++depth > this.maxDepth) {
          throw new OvsdbProtocolError(`JSON value nests deeper than ${this.maxDepth} levels`);
        }
      } else if (c === CH_RBRACE || c === CH_RBRACKET) {
        if (--depth === 0) {
          this.emit(buf.subarray(start, i), longNumber, sink);
          start = -1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.digitRun = digitRun;
    this.longNumber = longNumber;
    if (depth > 0 && start >= 0 && start < n) {
      const rest = buf.subarray(start);
      this.pieceBytes += rest.length;
      if (this.pieceBytes > this.maxValueBytes) {
        throw new OvsdbProtocolError(`JSON value larger than ${this.maxValueBytes} bytes`);
      }
      // copy: the caller may reuse the chunk's memory after push() returns
      this.pieces.push(Uint8Array.prototype.slice.call(rest));
    }
  }

  private emit(tail: Uint8Array, longNumber: boolean, sink: FramedValueSink): void {
    let bytes = tail;
    if (this.pieces.length > 0) {
      if (this.pieceBytes + tail.length > this.maxValueBytes) {
        throw new OvsdbProtocolError(`JSON value larger than ${this.maxValueBytes} bytes`);
      }
      this.pieces.push(tail);
      bytes = Buffer.concat(this.pieces, this.pieceBytes + tail.length);
      this.pieces = [];
      this.pieceBytes = 0;
    }
    // validate, then decode: both simdutf-backed, several times faster than a fatal TextDecoder
    if (!isUtf8(bytes)) throw new OvsdbProtocolError('JSON value is not valid UTF-8');
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    sink(buf.toString('utf8'), longNumber);
  }
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
