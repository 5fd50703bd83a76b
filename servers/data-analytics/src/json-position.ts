/** Line and column (1-based) of a character offset in text. */
export function lineColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/**
 * The offset of the first JSON syntax error. Node 20 puts "at position N" in some JSON.parse
 * messages but not all ("Unexpected token '}', ... is not valid JSON"), so a small scanner finds
 * it when the message does not say.
 */
export function errorOffset(text: string, message: string): number {
  const m = /position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  return scan(text);
}

function scan(s: string): number {
  let i = 0;
  const ws = () => {
    while (i < s.length && " \t\n\r".includes(s[i]!)) i++;
  };
  const fail = (): never => {
    throw new ScanError(i);
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === "{") {
      i++;
      ws();
      if (s[i] === "}") return void i++;
      for (;;) {
        ws();
        if (s[i] !== '"') fail();
        str();
        ws();
        if (s[i] !== ":") fail();
        i++;
        value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (s[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return str();
    const lit = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(s.slice(i, i + 400));
    if (!lit) fail();
    i += lit![0].length;
  };
  const str = () => {
    i++;
    while (i < s.length) {
      const c = s[i]!;
      if (c === '"') return void i++;
      if (c === "\\") {
        if (!/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(s.slice(i + 1, i + 6))) {
          i++;
          fail();
        }
        i += s[i + 1] === "u" ? 6 : 2;
        continue;
      }
      if (c < " ") fail();
      i++;
    }
    fail();
  };
  try {
    value();
    ws();
    return i < s.length ? i : s.length;
  } catch (e) {
    return e instanceof ScanError ? Math.min(e.position, s.length) : 0;
  }
}

class ScanError extends Error {
  constructor(readonly position: number) {
    super(`JSON syntax error at ${position}`);
  }
}
