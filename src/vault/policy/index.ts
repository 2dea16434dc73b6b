// The policy engine: patterns, scopes, decisions, narrowing, and the policy file formats.
// Pure: no I/O, no clock, no crypto.
export { CAPABILITIES, isCapability, type Capability } from "./capability.js";
export { compilePattern, matchPattern, mayIntersect, patternCovers, patternProblem, validatePattern } from "./pattern.js";
export { canListNamespace, decide, filterListable, type Decision, type PolicyDocument, type Rule, type Scope } from "./scope.js";
export { intersectScopes, isSubScope } from "./sub-scope.js";
export { formatCompactScope, isCompactScope, parseCompactScope } from "./compact.js";
export { getScope, scopeNameProblem } from "./policy-document.js";
export { MAX_POLICY_BYTES, parsePolicyYaml, serializePolicy, type PolicyProblem } from "./policy-yaml.js";
export { canonicalPolicyJson, policyFromCanonicalJson } from "./policy-json.js";
