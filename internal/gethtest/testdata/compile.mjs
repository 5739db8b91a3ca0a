// compile.mjs compiles contracts.sol (or the .sol file named as its
// argument) with the pinned solc-js (installed by scripts/setup-node-solc.sh
// into node_modules) and prints contracts.json (or the file's .json): each
// contract's ABI and creation bytecode, keys sorted.
//   node compile.mjs > contracts.json
//   node compile.mjs heist.sol > heist.json
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const solc = require("solc");

const file = process.argv[2] || "contracts.sol";
const input = {
  language: "Solidity",
  sources: { [file]: { content: readFileSync(new URL("./" + file, import.meta.url), "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const result = { compiler: "solc-js " + solc.version(), contracts: {} };
for (const name of Object.keys(out.contracts[file]).sort()) {
  const c = out.contracts[file][name];
  result.contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
}
process.stdout.write(JSON.stringify(result, null, 1) + "\n");
