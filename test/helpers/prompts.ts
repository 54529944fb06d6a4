// Varied code prompts for the losslessness tests: ten languages, five shapes each.
const NAMES = ['parse_config', 'merge_sorted', 'retry_request', 'flatten', 'word_count'];

const TEMPLATES: ((name: string, i: number) => string)[] = [
  (n) => `def ${n}(items):\n    """${n.replace('_', ' ')} for a list of items."""\n    result = []\n    for item in items:\n`,
  (n, i) => `function ${n}(input, options = {}) {\n  const limit = options.limit ?? ${i + 3};\n  if (!input) {\n`,
  (n) => `export async function ${n}<T>(values: T[]): Promise<Map<string, T>> {\n  const out = new Map<string, T>();\n`,
  (n, i) =>
    `#include <stdlib.h>\n#include <string.h>\n\nint ${n}(const char *buf, size_t len) {\n    int count = ${i};\n    for (size_t i = 0; i < len; i++) {\n`,
  (n) =>
    `#include <vector>\n#include <algorithm>\n\ntemplate <typename T>\nstd::vector<T> ${n}(const std::vector<T> &a) {\n    std::vector<T> out;\n`,
  (n) => `package main\n\nimport "fmt"\n\nfunc ${n}(xs []int) int {\n\ttotal := 0\n\tfor _, x := range xs {\n`,
  (n) => `fn ${n}(input: &str) -> Result<Vec<String>, String> {\n    let mut out = Vec::new();\n    for line in input.lines() {\n`,
  (n) =>
    `public class ${n.replace(/(^|_)(\w)/g, (_m, _a, c: string) => c.toUpperCase())} {\n    public static int run(int[] values) {\n        int best = 0;\n`,
  (n) => `#!/bin/sh\n# ${n}: process every file given on the command line\nset -eu\nfor f in "$@"; do\n`,
  (n, i) =>
    `SELECT u.id, u.name, COUNT(o.id) AS ${n}\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nWHERE u.created_at > '2024-0${(i % 9) + 1}-01'\n`,
];

export const CODE_PROMPTS: string[] = TEMPLATES.flatMap((t) => NAMES.map((n, i) => t(n, i)));
