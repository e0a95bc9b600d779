/*
 * jaeger_ui.h - a Jaeger UI build (a static site: index.html and static/)
 * served at /, as `--ui-dir DIR` asks. Paths that name no file are the
 * UI's own client-side routes (/search, /trace/ID) and get index.html.
 * Files are read on each request (the builds are a few MB; the OS caches
 * them). Thread-safe after jaeger_ui_open.
 */
#ifndef COLLECTOR_JAEGER_UI_H
#define COLLECTOR_JAEGER_UI_H

#include <stddef.h>

typedef struct jaeger_ui jaeger_ui;

/* jaeger_ui_open checks that dir holds an index.html. Returns 0 with
 * *out, or -1 with a malloc'd *cause. */
int jaeger_ui_open(jaeger_ui **out, const char *dir, char **cause);
void jaeger_ui_close(jaeger_ui *ui);

/* jaeger_ui_file reads what path (decoded, without the query) names:
 * a file under the UI's directory, or index.html for a client-side route.
 * Returns 200 with a malloc'd *body of *len bytes and its *content_type,
 * or 404 (a missing asset, or a path that tries to leave the directory). */
unsigned jaeger_ui_file(const jaeger_ui *ui, const char *path, char **body,
    size_t *len, const char **content_type);

#endif /* COLLECTOR_JAEGER_UI_H */
