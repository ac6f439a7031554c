// What gather knows of one host file, and what it could not read: the base every other fact builds on.

/** Something gather could not read; becomes an `error` finding or evidence, never a crash. */
export interface GatherError {
  /** Host path, or `/proc/<pid>/...` style path under the proc root. */
  path: string;
  /** errno-style code: ENOENT, EACCES, ELOOP, EFBIG (over the read bound), EINVAL (not a regular file / bad YAML) ... */
  code: string;
  message: string;
}

export type FileType = 'file' | 'dir' | 'symlink' | 'other';

/** A file as stat(2) reports it (symlinks followed inside the host root), owner resolved through the host's /etc/passwd and /etc/group. */
export interface FileFact {
  path: string;
  exists: boolean;
  type?: FileType;
  /** Permission bits including setuid/setgid/sticky (st_mode & 0o7777). */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Names from the host root's /etc/passwd and /etc/group; the numeric id as a string when unknown. */
  user?: string;
  group?: string;
  size?: number;
  error?: GatherError;
}
