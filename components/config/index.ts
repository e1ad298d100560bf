// The stack config's public face: parseClusterConfig and ClusterSpec, the
// cluster shape (pairs, nodes, domains, ports, SSH), the shard plan and the
// generic readers. Each role's own section is in components/roles/<role>/config.ts.
export * from "./cluster";
export * from "./nodes";
export * from "./readers";
export * from "./shards";
