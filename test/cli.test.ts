import { beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// These tests run the built CLI (`npm test` builds first; by hand: `npm run build`).
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin", "chainrule.js");

interface Run { code: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.FORCE_COLOR;
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const json = async (...args: string[]): Promise<unknown> => {
  const r = await run(...args);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(() => {
  if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
});

describe("chainrule (no arguments): the seed walkthrough", () => {
  it("shows the forward steps, the backward steps as local × upstream, and a finite-difference check", async () => {
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const out = r.stdout;
    expect(out).toContain("L = (a·b + c)²");
    expect(out).toContain("at a = 3, b = 2, c = 1");
    // Forward pass.
    expect(out).toMatch(/u = a·b\s+= 3·2\s+= 6/);
    expect(out).toMatch(/v = u \+ c\s+= 6 \+ 1\s+= 7/);
    expect(out).toMatch(/L = v²\s+= 7²\s+= 49/);
    // Backward pass: local derivative × upstream = gradient.
    expect(out).toMatch(/∂L\/∂v = 2·v × ∂L\/∂L\s+= 14 × 1\s+= 14/);
    expect(out).toMatch(/∂L\/∂u = 1 × ∂L\/∂v\s+= 1 × 14\s+= 14/);
    expect(out).toMatch(/∂L\/∂c = 1 × ∂L\/∂v\s+= 1 × 14\s+= 14/);
    expect(out).toMatch(/∂L\/∂a = b × ∂L\/∂u\s+= 2 × 14\s+= 28/);
    expect(out).toMatch(/∂L\/∂b = a × ∂L\/∂u\s+= 3 × 14\s+= 42/);
    // The check passes for all three inputs.
    expect(out).toMatch(/∂L\/∂a = 28\s+finite difference 28\.0000\d\d.*✓/);
    expect(out).toMatch(/∂L\/∂b = 42\s+finite difference 42\.0000\d\d.*✓/);
    expect(out).toMatch(/∂L\/∂c = 14\s+finite difference 14\.0000\d\d.*✓/);
    expect(out).not.toContain("✗");
    expect(out).not.toMatch(/\x1b\[/); // no colour when not a terminal
  });

  it("explain shows fan-out as a sum of paths", async () => {
    const r = await run("explain", "x*x + x", "--at", "x=3");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/∂L\/∂x \+= 1 × ∂L\/∂L\s+= 1 × 1 = 1\s+1st of 3 paths into x/);
    expect(r.stdout).toMatch(/∂L\/∂x =\s+1 \+ 3 \+ 3\s+= 7\s+x is used 3 times/);
    // The footer does not suggest the command just run (nor say "twice" of a value used 3 times).
    const footer = r.stdout.slice(r.stdout.indexOf("Try next"));
    expect(footer).not.toContain('explain "x*x + x"');
    expect(footer).toContain("chainrule grad");
  });

  it("the seed's footer suggests x*x + x with the right count", async () => {
    const r = await run();
    expect(r.stdout).toMatch(/chainrule explain "x\*x \+ x" --at x=3\s+x is used 3 times: its gradients add up/);
    expect(r.stdout).not.toContain("used twice");
  });

  it("explain: a finite difference that overflows is not available (exit 0); a real mismatch exits 1 with one line", async () => {
    const over = await run("explain", "exp(x)", "--at", "x=1000");
    expect(over.code).toBe(0);
    expect(over.stderr).toBe("");
    expect(over.stdout).toMatch(/∂L\/∂x = ∞\s+finite difference not available \(overflow\)/);
    expect(over.stdout).not.toContain("mismatch");
    const domain = await run("explain", "sqrt(x)", "--at", "x=0");
    expect(domain.code).toBe(0);
    expect(domain.stdout).toMatch(/finite difference not available \(NaN: x ± h leaves the function's domain\)/);
    // relu at its kink: the engine's convention (0) against the central difference (1/2).
    const kink = await run("explain", "relu(x)", "--at", "x=0");
    expect(kink.code).toBe(1);
    expect(kink.stdout).toMatch(/∂L\/∂x = 0\s+finite difference 0\.500000.*✗ mismatch/);
    expect(kink.stderr).toBe("chainrule: explain: gradient check failed: ∂L/∂x = 0 but the finite difference is 0.500000 (at a kink such as relu at 0 the derivative is a convention and the two differ)\n");
  });
});

describe("chainrule grad", () => {
  it("prints exactly the seed's value and gradients as JSON, in both modes", async () => {
    for (const expr of ["(a*b+c)^2", "(a*b + c)^2"]) {
      for (const mode of ["reverse", "forward"]) {
        const r = await run("grad", expr, "--at", "a=3,b=2,c=1", "--json", "--mode", mode);
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe('{"value":49,"grads":{"a":28,"b":42,"c":14}}');
      }
    }
  });

  it("agrees with hand values on other expressions, forward and reverse", async () => {
    const cases: [string, string, unknown][] = [
      ["sin(x)*y", "x=0,y=2", { value: 0, grads: { x: 2, y: 0 } }],
      // ^ binds tighter than *: a*b^2 = a*(b^2) = 12, not (a*b)^2 = 36.
      ["a*b^2 + x/y - 3", "a=3,b=2,x=2,y=4", { value: 12 + 0.5 - 3, grads: { a: 4, b: 12, x: 0.25, y: -0.125 } }],
      // -x^2 = -(x^2) = -9, not 9; 2^3^2 = 2^9 = 512, not 64.
      ["(-x^2) + 2^3^2", "x=3", { value: 503, grads: { x: -6 } }],
      ["exp(log(x)) + relu(-x) + abs(x) + square(x) + neg(x)", "x=2", { value: 2 + 0 + 2 + 4 - 2, grads: { x: 1 + 0 + 1 + 4 - 1 } }],
      ["tanh(x) + sigmoid(x) + sqrt(x) + cos(x) + tan(x)", "x=0", { value: 0 + 0.5 + 0 + 1 + 0, grads: { x: 1 + 0.25 + Infinity - 0 + 1 } }],
    ];
    await Promise.all(cases.flatMap(([expr, at, expected]) => ["reverse", "forward"].map(async (mode) => {
      const args = ["grad", expr, "--json", "--mode", mode, ...(at ? ["--at", at] : [])];
      const doc = (await json(...args)) as { value: number; grads: Record<string, number | string> };
      const decode = (v: number | string): number => (typeof v === "string" ? Number(v) : v);
      const want = expected as { value: number; grads: Record<string, number> };
      expect(decode(doc.value), `${expr} (${mode})`).toBeCloseTo(want.value, 12);
      expect(Object.keys(doc.grads)).toEqual(Object.keys(want.grads));
      for (const [k, v] of Object.entries(want.grads)) {
        if (Number.isFinite(v)) expect(decode(doc.grads[k]!), `${expr} ∂/∂${k} (${mode})`).toBeCloseTo(v, 12);
        else expect(doc.grads[k]).toBe(String(v));
      }
    })));
  });

  it("prints a readable table without --json", async () => {
    const r = await run("grad", "sin(x)*y", "--at", "x=0,y=2");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/∂L\/∂x\s+2\n/);
    expect(r.stdout).toMatch(/∂L\/∂y\s+0\n/);
    expect(r.stdout).toContain("reverse mode");
  });
});

describe("chainrule viz", () => {
  it("exports the seed as text, dot and json, and writes files", async () => {
    const [text, dot, doc] = await Promise.all([run("viz"), run("viz", "--format", "dot"), json("viz", "(a*b+c)^2", "--at", "a=3,b=2,c=1", "--format", "json")]);
    expect(text.stdout).toContain("u:f64[] = mul a b");
    expect(text.stdout).toContain("L:f64[] = square v");
    expect(dot.stdout).toContain("digraph chainrule {");
    expect(dot.stdout).toContain('n5 [label="{L = square | value 49 | grad 1}"');
    const g = doc as { schema: string; nodes: { name: string; grad: { data: number[] } }[] };
    expect(g.schema).toBe("chainrule.graph/1");
    expect(g.nodes.map((n) => [n.name, n.grad.data[0]])).toEqual([["a", 28], ["b", 42], ["c", 14], ["u", 14], ["v", 14], ["L", 1]]);
    const dir = mkdtempSync(join(tmpdir(), "chainrule-cli-"));
    const w = await run("viz", "-o", join(dir, "g.dot"));
    expect(w.code).toBe(0);
    expect(readFileSync(join(dir, "g.dot"), "utf8")).toContain("digraph chainrule");
  });
});

describe("bad input: one line on stderr (plus a caret for syntax errors), exit status 2, no stack trace", () => {
  const svgOut = join(mkdtempSync(join(tmpdir(), "chainrule-cli-")), "graph.svg");
  // [arguments, message, caret line (syntax errors: the expression and a caret follow the message)]
  const cases: [string[], RegExp, string?][] = [
    [["grad", "a+*b", "--at", "a=1,b=2"], /expected expression after \+/, "    ^"],
    [["grad", "(a*b", "--at", "a=1,b=2"], /expected \)|unclosed/i, "      ^"],
    [["grad", "a b", "--at", "a=1,b=2"], /unexpected "b"/, "    ^"],
    [["grad", "a ** 2", "--at", "a=1"], /write powers with \^/, "    ^"],
    [["grad", "foo(x)", "--at", "x=1"], /unknown function foo/, "  ^"],
    [["grad", 'constructor.constructor("x")()'], /only named functions can be called/, " ".repeat(30) + "^"],
    [["grad", "process.exit()"], /member access/, "         ^"],
    [["grad", "a.__proto__", "--at", "a=1"], /member access/, "   ^"],
    [["grad", "a[0]", "--at", "a=1"], /member access/, "   ^"],
    [["grad", "'x'"], /only numbers/, "  ^"],
    [["grad", "a*b", "--at", "a=1"], /^chainrule: --at: no value for variable b; pass it with --at b=…$/m],
    [["grad", "a", "--at", "a=1,z=2"], /unknown variable z/],
    [["grad", "a", "--at", "a=1,a=2"], /a is given twice/],
    [["grad", "a", "--at", "a=abc"], /must be a number, got "abc"/],
    [["grad", "a", "--at", "a"], /expected name=number/],
    [["grad", "a", "--at", "a=1e400"], /^chainrule: --at: the value of a must be a finite number, got 1e400/],
    [["grad", "a", "--at", "a=-1e999"], /must be a finite number/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["help", "bogus"], /^chainrule: help: unknown command 'bogus'; expected one of explain, grad, viz, train, predict, sample, modes, info, export$/m],
    [["viz", "-o", svgOut], /^chainrule: viz: cannot tell the format of .*graph\.svg from its extension "\.svg"; use one of \.html \.htm \.dot \.gv \.json \.txt, or pass --format html\|dot\|json\|text/],
    [["viz", "--mlp", "-o", svgOut], /cannot tell the format of .*graph\.svg/],
    [["viz", "-o", join(tmpdir(), "chainrule-graph-no-extension")], /from its extension \(none\)/],
    [["grad", "x", "--bogus"], /unknown option '--bogus'/],
    [["grad", "x", "--at", "x=1", "--mode", "sideways"], /sideways.*invalid/],
    [["grad", "-x^2", "--at", "x=1"], /wrap it in parentheses/],
    [["train", "mnist", "--plot", join(dirname(svgOut), "curves.png")], /^chainrule: train: --plot: the plot is SVG, so the file name must end in \.svg, got .*curves\.png \(extension "\.png"\); use .*curves\.svg, then convert it/],
    [["modes", "--plot", join(dirname(svgOut), "modes.png")], /^chainrule: modes: --plot: the plot is SVG, so the file name must end in \.svg/],
    [["predict", join(dirname(svgOut), "cnn.safetensors")], /^chainrule: predict: .*cnn\.safetensors does not exist; train and save a model first, e.g\. chainrule train mnist --model cnn --out /],
  ];
  it("each error path", async () => {
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((r, i) => {
      const [args, message, caret] = cases[i]!;
      const what = args.join(" ");
      expect(r.code, what).toBe(2);
      expect(r.stdout, what).toBe("");
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).not.toContain("    at ");
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines[0], what).toMatch(/^chainrule: /);
      expect(lines, what).toHaveLength(caret ? 3 : 1);
      if (caret) {
        expect(lines[1], what).toBe(`  ${args[1]}`);
        expect(lines[2], what).toBe(caret);
      }
    });
  });

  it("writes nothing for an unknown extension; help <command> still prints that command's help", async () => {
    expect(existsSync(svgOut)).toBe(false);
    const r = await run("help", "grad");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: chainrule grad \[options\] <expr>/);
    const svg = await run("viz", "--format", "dot", "-o", svgOut); // an explicit --format takes any file name
    expect(svg.code).toBe(0);
    expect(readFileSync(svgOut, "utf8")).toContain("digraph chainrule");
  });

  it("never evaluates the expression as JavaScript", async () => {
    const r = await run("grad", "process.exit(7)");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("process.exit(7)"); // echoed under the caret, not run
  });
});
