import { fileURLToPath } from "node:url";
import { runClientMatrix } from "../src/contract.js";

const BIN = fileURLToPath(new URL("../fixtures/everything/dist/bin.js", import.meta.url));

runClientMatrix("everything", () => ({
  command: process.execPath,
  args: [BIN],
  call: { name: "echo", arguments: { message: "hi" } },
}));
