/* userns.h - the daemon's own user and mount namespace.
 *
 * DESIGN: a rootless daemon moves itself, once, at start-up and while it
 * still has one thread (unshare(CLONE_NEWUSER) refuses a multi-threaded
 * process), into a new user namespace and a new mount namespace. With a
 * subordinate range in /etc/subuid and /etc/subgid the namespace gets the
 * full mapping: 0 -> the user, 1..65535 -> the range, written by the setuid
 * newuidmap/newgidmap from a helper process left outside (the model rootless
 * podman uses). Without a range it maps only 0 -> the user (written by the
 * daemon itself) and says so. Inside, the daemon is uid 0: it unpacks
 * images keeping their file ownership, mounts overlays, and everything it
 * starts (umoci, conmon, crun, the containers) shares the namespace. Mounts
 * are private to the daemon and disappear with the last process in the
 * namespace. A daemon started as real root does not enter a namespace.
 */
#ifndef LCD_USERNS_H
#define LCD_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "lcd/error.h"

#define LCD_SUBID_SIZE 65536

typedef struct {
        bool entered;   /* we are in our own user + mount namespace */
        bool full;      /* with the subordinate range mapped */
        uid_t host_uid; /* who we are outside */
        gid_t host_gid;
        unsigned long subuid, subgid; /* first subordinate ids, 0: none */
        char desc[160];               /* "0->1000, 1..65535->100000 (uid); ..." */
} lcd_userns_t;

/* Enter the namespaces (see DESIGN). Single-threaded callers only. As real
 * root: records that and does nothing. LCD_ERR when the kernel or the
 * mapping tools refuse; nothing is half-done then (the process is in no new
 * namespace or the namespace is unusable and the daemon must exit). */
int lcd_userns_enter(lcd_userns_t *ns, lcd_error_t **err);

#endif
