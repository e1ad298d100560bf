// pairstore: highly available static-file server pairs, provisioned over SSH.
// The program lives in components/; this file only runs it as the stack.
import { program } from "./components/program";

export = program();
