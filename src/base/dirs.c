/* dirs.c - see dirs.h. */
#include "lcd/dirs.h"

#include "lcd/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fits(int n, size_t len)
{
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int lcd_dirs_runtime_default(char *buf, size_t len, bool *fallback)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        *fallback = xdg == NULL || xdg[0] != '/';
        if (!*fallback)
                return fits(snprintf(buf, len, "%s/light-containerd", xdg), len);
        return fits(snprintf(buf, len, "/tmp/light-containerd-%u", (unsigned)geteuid()), len);
}

int lcd_dirs_data_default(char *buf, size_t len)
{
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg != NULL && xdg[0] == '/')
                return fits(snprintf(buf, len, "%s/light-containerd", xdg), len);
        if (home != NULL && home[0] == '/')
                return fits(snprintf(buf, len, "%s/.local/share/light-containerd", home), len);
        return -ENOENT;
}

static const char *owner_name(unsigned uid, char *buf, size_t len)
{
        struct passwd pw, *found = NULL;
        char pwbuf[1024];
        if (getpwuid_r((uid_t)uid, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found != NULL)
                snprintf(buf, len, "%s (uid %u)", found->pw_name, uid);
        else
                snprintf(buf, len, "uid %u", uid);
        return buf;
}

int lcd_dir_private(const char *path, bool create, lcd_error_t **err)
{
        if (create) {
                int r = lcd_mkdir_p(path, 0700);
                if (r < 0)
                        return lcd_error_set(err, LCD_E_INTERNAL, "cannot create %s: %s", path, strerror(-r));
        }
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT && !create)
                        return -ENOENT;
                return lcd_error_set(err, LCD_E_INTERNAL, "%s: %s", path, strerror(errno));
        }
        if (S_ISLNK(st.st_mode))
                return lcd_error_set(err, LCD_E_FORBIDDEN,
                                     "%s is a symbolic link, not a directory of its own: remove it, or give another "
                                     "directory",
                                     path);
        if (st.st_uid != geteuid()) {
                char who[300];
                return lcd_error_set(err, LCD_E_FORBIDDEN,
                                     "%s belongs to %s, not to this user (uid %u): another user may have created it "
                                     "to read the daemon's token; remove it as root, or give another directory",
                                     path, owner_name((unsigned)st.st_uid, who, sizeof who), (unsigned)geteuid());
        }
        if (!S_ISDIR(st.st_mode))
                return lcd_error_set(err, LCD_E_FORBIDDEN, "%s is not a directory", path);
        if (st.st_mode & 077)
                return lcd_error_set(err, LCD_E_FORBIDDEN,
                                     "%s is open to others (mode %04o): run chmod 700 %s (after checking what is in "
                                     "it), or give another directory",
                                     path, (unsigned)(st.st_mode & 07777), path);
        /* and what opens under that name is the same directory (not swapped meanwhile) */
        struct stat ost;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &ost) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return lcd_error_set(err, LCD_E_INTERNAL, "%s: %s", path, strerror(e));
        }
        close(fd);
        if (ost.st_dev != st.st_dev || ost.st_ino != st.st_ino)
                return lcd_error_set(err, LCD_E_FORBIDDEN, "%s changed while it was checked", path);
        return 0;
}
