/* fsutil.h - small file-system helpers. Any thread; no shared state. */
#ifndef LCD_FSUTIL_H
#define LCD_FSUTIL_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* mkdir -p; 0 or -errno. */
int lcd_mkdir_p(const char *path, mode_t mode);
/* rm -rf that also removes read-only directories (as umoci's rootless
 * unpack leaves them); does not follow symlinks or cross mounts.
 * 0 (also when path is absent) or -errno of the first failure. */
int lcd_rmtree(const char *path);
/* Read up to len-1 bytes of a small file, NUL-terminated. Bytes read or -errno. */
ssize_t lcd_read_small(const char *path, char *buf, size_t len);
/* Write text to an existing file in one write(2), no O_CREAT: control
 * files of procfs and cgroupfs. 0 or -errno. */
int lcd_write_small(const char *path, const char *text);
/* Write a whole file atomically: a new temp file (O_EXCL|O_NOFOLLOW: never
 * one that was there, nor a symlink's target), then rename. 0 or -errno. */
int lcd_write_atomic(const char *path, const char *data, size_t len, mode_t mode);
/* Parse a JSON file of at most max bytes. NULL when it is missing, too
 * large, unreadable or not JSON (errno tells: ENOENT, EFBIG, EINVAL, ...).
 * Unlike json-c's json_object_from_file it keeps no global error state, so
 * workers may call it at the same time. */
json_object *lcd_json_read(const char *path, size_t max);
/* Bytes free for an unprivileged writer on the file system of path, or -1
 * when it cannot be told. */
int64_t lcd_fs_free(const char *path);
/* What a pull or an unpack leaves free at least, beyond what it needs. */
#define LCD_DISK_RESERVE (16 * 1024 * 1024)
/* Find an executable on PATH; 0 with the absolute path in buf, or -ENOENT. */
int lcd_find_on_path(const char *name, char *buf, size_t len);

#endif
