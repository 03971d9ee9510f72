/* fsutil.c - see fsutil.h. */
#include "lcd/fsutil.h"

#include "lcd/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int lcd_mkdir_p(const char *path, mode_t mode)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        for (char *p = tmp + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Remove one entry of the directory dfd (dev: its filesystem). 0 or -errno. */
static int rm_contents(int dfd, dev_t dev, int depth);

static int rm_entry(int dfd, const char *name, dev_t dev, int depth)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev) /* a mount point: never cross it */
                return -EBUSY;
        if (fchmodat(dfd, name, 0700, 0) < 0) {
                /* best effort, for a directory left unreadable: openat
                 * below reports the failure that matters */
        }
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = sub >= 0 ? rm_contents(sub, dev, depth + 1) : -errno;
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return r ? r : -errno;
        return 0;
}

/* Remove everything inside the directory open as dfd (consumed). It reads
 * the directory with getdents64 into a buffer on the stack: removing files
 * must not need memory (it is what runs after an allocation failed).
 * Entries removed while reading may shift the rest, so it reads again from
 * the start until a pass finds nothing or removes nothing. */
static int rm_contents(int dfd, dev_t dev, int depth)
{
        if (depth > 256) {
                close(dfd);
                return -ELOOP;
        }
        char buf[2048] __attribute__((aligned(8)));
        int first = 0;
        for (int pass = 0; pass < 64; pass++) {
                bool removed = false, left = false;
                first = 0;
                if (lseek(dfd, 0, SEEK_SET) < 0) {
                        first = -errno;
                        break;
                }
                for (;;) {
                        long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
                        if (n < 0) {
                                first = -errno;
                                break;
                        }
                        if (n == 0)
                                break;
                        for (long off = 0; off < n;) {
                                struct dirent64 *de = (struct dirent64 *)(void *)(buf + off);
                                off += de->d_reclen;
                                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                        continue;
                                int r = rm_entry(dfd, de->d_name, dev, depth);
                                if (r == 0) {
                                        removed = true;
                                } else {
                                        left = true;
                                        if (!first)
                                                first = r;
                                }
                        }
                }
                if (!left || !removed)
                        break;
        }
        close(dfd);
        return first;
}

int lcd_rmtree(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        chmod(path, 0700);
        int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int r = rm_contents(dfd, st.st_dev, 0);
        if (rmdir(path) < 0 && errno != ENOENT)
                return r ? r : -errno;
        return r;
}

/* Read up to len bytes (fewer at end of file or on an error); how many. */
static size_t read_all(int fd, char *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        return got;
}

ssize_t lcd_read_small(const char *path, char *buf, size_t len)
{
        if (len == 0)
                return -EINVAL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t got = read_all(fd, buf, len - 1);
        close(fd);
        buf[got] = '\0';
        return (ssize_t)got;
}

int lcd_write_small(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, strlen(text));
        int e = n < 0 ? -errno : 0;
        close(fd);
        return e;
}

int lcd_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        /* a file of our own, never one planted there (or a symlink to one) */
        if (unlink(tmp) < 0 && errno != ENOENT)
                return -errno;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        size_t done = 0;
        while (done < len) {
                ssize_t n = write(fd, data + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = -errno;
                        close(fd);
                        unlink(tmp);
                        return e;
                }
                done += (size_t)n;
        }
        if (close(fd) < 0 || rename(tmp, path) < 0) {
                int e = -errno;
                unlink(tmp);
                return e;
        }
        return 0;
}

json_object *lcd_json_read(const char *path, size_t max)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct stat st;
        if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
                close(fd);
                errno = EFBIG;
                return NULL;
        }
        char *buf = lcd_malloc((size_t)st.st_size + 1);
        size_t got = buf != NULL ? read_all(fd, buf, (size_t)st.st_size) : 0;
        close(fd);
        if (buf == NULL) {
                errno = ENOMEM;
                return NULL;
        }
        json_tokener *tok = json_tokener_new();
        json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)got) : NULL;
        if (tok != NULL && json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
        }
        if (tok != NULL) /* json-c 0.16 does not take NULL here */
                json_tokener_free(tok);
        lcd_free(buf);
        if (o == NULL)
                errno = tok ? EINVAL : ENOMEM;
        return o;
}

int64_t lcd_fs_free(const char *path)
{
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return -1;
        return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

int lcd_find_on_path(const char *name, char *buf, size_t len)
{
        const char *path = getenv("PATH");
        if (path == NULL)
                path = "/usr/local/bin:/usr/bin:/bin";
        while (*path) {
                const char *end = strchr(path, ':');
                size_t n = end ? (size_t)(end - path) : strlen(path);
                if (n > 0 && snprintf(buf, len, "%.*s/%s", (int)n, path, name) < (int)len && access(buf, X_OK) == 0 &&
                    buf[0] == '/')
                        return 0;
                path += n + (end ? 1 : 0);
        }
        return -ENOENT;
}
