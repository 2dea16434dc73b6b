import fs from "node:fs/promises";
import path from "node:path";
import { AuthyError } from "../errors.js";
import { fileError } from "../files/file-error.js";
import { showName } from "./source.js";

/** A pass or passage store: one encrypted file per entry, folders for folders. */
interface StoreFile {
  /** The entry's name: its path below the store without the suffix (`work/aws/key`). */
  name: string;
  file: string;
}

/**
 * The entries of a store: every `*SUFFIX` file below `root`, sorted by name. Dot files and
 * folders (`.git`, `.gpg-id`, `.age-recipients`) are the store's own. A symbolic link is not
 * followed (it could lead anywhere); it is refused by name, as is anything that is neither a
 * file nor a folder.
 */
export async function walkStore(root: string, suffix: string, what: string): Promise<StoreFile[]> {
  try {
    if (!(await fs.stat(root)).isDirectory()) throw new AuthyError("INVALID_INPUT", `${root} is not a folder`, { hint: `give the ${what} store's folder` });
  } catch (e) {
    throw fileError(e, root);
  }
  const out: StoreFile[] = [];
  const refused: string[] = [];
  const visit = async (dir: string, prefix: string): Promise<void> => {
    let items;
    try {
      items = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw fileError(e, dir);
    }
    for (const item of items) {
      if (item.name.startsWith(".")) continue;
      const rel = prefix === "" ? item.name : `${prefix}/${item.name}`;
      if (item.isDirectory()) await visit(path.join(dir, item.name), rel);
      else if (!item.name.endsWith(suffix)) continue;
      else if (item.isFile()) out.push({ name: rel.slice(0, -suffix.length), file: path.join(dir, item.name) });
      else refused.push(rel);
    }
  };
  await visit(root, "");
  if (refused.length > 0) {
    throw new AuthyError("INVALID_INPUT", `${what} store entries that are not regular files (links are not followed): ${refused.map(showName).join(", ")}`, {
      hint: "copy the entry it points to in its place, or remove it, then import again",
    });
  }
  if (out.length === 0) throw new AuthyError("NOT_FOUND", `no ${what} entries (*${suffix}) in ${root}`);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
