// URNs and aliases as the engine computes them (pulumi v3.239:
// sdk/go/common/resource/urn/urn.go New, pkg/resource/deploy/step_generator.go
// generateAliases/inheritedChildAlias). A resource's identity is its URN: the
// parent's full type chain (without the root stack), its own type and its
// name. The SDK's MockMonitor keeps only the parent's last type, which would
// hide a refactor that moves a resource under another parent.

/** The root stack's type: never part of a child's type chain. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>`. */
export function makeUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
    const parentType = parentUrn ? qualifiedType(parentUrn) : "";
    const typ = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${typ}::${name}`;
}

/** The full type chain of a URN (`a$b$c`). */
export function qualifiedType(urn: string): string {
    return urn.split("::")[2] ?? "";
}

/** The resource name of a URN. */
export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/** An alias as the SDK sends it (resource_pb Alias: a URN, or a spec whose fields default to the resource's own). */
export interface AliasRequest {
    urn?: string;
    name?: string;
    type?: string;
    stack?: string;
    project?: string;
    /** Parent URN of the alias; "" with `noParent` for none. */
    parentUrn?: string;
    noParent?: boolean;
}

/**
 * Every URN a resource may have had: its explicit aliases and, for each alias
 * of its parent, the same resource under that parent (with the parent's old
 * name as the prefix of its own name, the `<parent>-<child>` convention).
 */
export function aliasUrns(
    stack: string, project: string, name: string, type: string, parentUrn: string, aliases: AliasRequest[],
    parentAliases: (urn: string) => string[], parentName: (urn: string) => string,
): string[] {
    const out = new Set<string>();
    for (const a of aliases) {
        if (a.urn) {
            out.add(a.urn);
            continue;
        }
        const parent = a.noParent ? "" : a.parentUrn || parentUrn;
        out.add(makeUrn(a.stack || stack, a.project || project, parent, a.type || type, a.name || name));
    }
    if (parentUrn) {
        const pName = parentName(parentUrn);
        for (const pAlias of parentAliases(parentUrn)) {
            const childName = name.startsWith(pName) ? urnName(pAlias) + name.slice(pName.length) : name;
            out.add(makeUrn(stack, project, pAlias, type, childName));
            for (const a of aliases.filter((x) => !x.urn && !x.noParent && !x.parentUrn)) {
                out.add(makeUrn(stack, project, pAlias, a.type || type, a.name || childName));
            }
        }
    }
    return [...out];
}
