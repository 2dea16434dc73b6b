/** authy's version, as `--version` and the MCP server report it (kept in step with package.json). */
export const VERSION = "0.1.0";
