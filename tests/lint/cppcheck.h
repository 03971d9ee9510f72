/* cppcheck.h - what cppcheck needs to know of the system headers it does
 * not read (scripts/dev lint passes it with --include). */
#define json_object_object_foreach(obj, key, val)                                                                      \
        for (char *key = 0; key != 0;)                                                                                 \
                for (struct json_object *val = 0; val != 0;)
#define LWS_PRE 16
