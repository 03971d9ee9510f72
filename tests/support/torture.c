/* torture.c - linked into every unit test: with LCD_ALLOC_TORTURE=N in the
 * environment, the project's Nth allocation fails (lcd_alloc_fail_at), and
 * at exit the file named by LCD_ALLOC_TORTURE_REPORT gets "hit N" or "miss
 * COUNT" (COUNT: allocations made). tests/alloc/torture.py runs each unit
 * test for N = 1, 2, ... until a miss: the test's own verdict is ignored
 * (an assertion that an allocation succeeded fails, as it should), only a
 * crash or a sanitizer report counts, as in curl's torture tests. */
#include "lcd/alloc.h"

#include <stdio.h>
#include <stdlib.h>

static const char *report;
static unsigned long armed;

static void write_report(void)
{
        FILE *f = fopen(report, "w");
        if (f == NULL)
                return;
        if (lcd_alloc_fail_hit())
                fprintf(f, "hit %lu\n", armed);
        else
                fprintf(f, "miss %lu\n", lcd_alloc_count());
        fclose(f);
}

__attribute__((constructor)) static void torture_init(void)
{
        const char *n = getenv("LCD_ALLOC_TORTURE");
        report = getenv("LCD_ALLOC_TORTURE_REPORT");
        if (report != NULL)
                atexit(write_report);
        if (n != NULL && (armed = strtoul(n, NULL, 10)) > 0)
                lcd_alloc_fail_at(armed);
}
