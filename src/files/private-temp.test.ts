import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createPrivateTemp, privateTempBase } from "./private-temp.js";

const TMPFS = 0x01021994;
const shmIsTmpfs = (() => {
  try {
    return Number(statfsSync("/dev/shm").type) === TMPFS;
  } catch {
    return false;
  }
})();

describe("private temporary files", () => {
  it("prefers $XDG_RUNTIME_DIR, then /dev/shm, only when they are memory-backed", () => {
    if (!shmIsTmpfs) console.warn("skipped part: /dev/shm is not tmpfs here");
    const onDisk = mkdtempSync(path.join(os.tmpdir(), "authy-pt-"));
    try {
      // A directory on a disk is no memory-backed candidate, whatever the variable says.
      const diskFs = Number(statfsSync(onDisk).type);
      if (diskFs !== TMPFS) expect(privateTempBase({ XDG_RUNTIME_DIR: onDisk }, [])).toEqual({ base: os.tmpdir(), memoryBacked: false });
      if (shmIsTmpfs) {
        expect(privateTempBase({ XDG_RUNTIME_DIR: "/dev/shm" }, [])).toEqual({ base: "/dev/shm", memoryBacked: true });
        expect(privateTempBase({ XDG_RUNTIME_DIR: "relative/dir" })).toEqual({ base: "/dev/shm", memoryBacked: true });
      }
      expect(privateTempBase({}, [])).toEqual({ base: os.tmpdir(), memoryBacked: false });
    } finally {
      rmSync(onDisk, { recursive: true, force: true });
    }
  });

  it("writes the content to a 0600 file in a fresh 0700 directory and removes both, zeroing the file first", () => {
    const temp = createPrivateTemp("KEY", Buffer.from("the-value"));
    expect(readFileSync(temp.file, "utf8")).toBe("the-value");
    expect(statSync(temp.file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(temp.file)).mode & 0o777).toBe(0o700);
    temp.remove();
    temp.remove();
    expect(existsSync(temp.file)).toBe(false);
    expect(existsSync(path.dirname(temp.file))).toBe(false);
  });
});
