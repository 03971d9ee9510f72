/* dirs.h - where the daemon keeps its files, and why nobody else can touch them.
 *
 * DESIGN: the runtime dir holds the token (the whole API) and the socket;
 * the data dir holds the images and every container's files. Both must be
 * private to the daemon's user: owned by it, no group or other access, not
 * a symlink. Without XDG_RUNTIME_DIR the runtime dir is in /tmp, where
 * another local user could create it first; such a dir is refused, never
 * used, and the doctor says why. Files in them are created with
 * O_EXCL|O_NOFOLLOW (fsutil.h), so a planted symlink cannot redirect a
 * write. Any thread; no state.
 */
#ifndef LCD_DIRS_H
#define LCD_DIRS_H

#include <stdbool.h>
#include <stddef.h>

#include "lcd/error.h"

/* The default runtime dir: $XDG_RUNTIME_DIR/light-containerd, else
 * /tmp/light-containerd-<uid> (*fallback set). 0 or -ENAMETOOLONG. */
int lcd_dirs_runtime_default(char *buf, size_t len, bool *fallback);
/* The default data dir: $XDG_DATA_HOME/light-containerd, else
 * $HOME/.local/share/light-containerd. 0, -ENOENT (neither is set) or
 * -ENAMETOOLONG. */
int lcd_dirs_data_default(char *buf, size_t len);
/* Check that path is a private directory of this user (create: make it,
 * and its missing parents, mode 0700, first). 0, or LCD_ERR with a message
 * that names the problem and the fix; -ENOENT (no message) when it is
 * absent and create is false. */
int lcd_dir_private(const char *path, bool create, lcd_error_t **err);

#endif
