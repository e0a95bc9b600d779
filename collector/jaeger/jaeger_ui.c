/*
 * jaeger_ui.c - serves a Jaeger UI build (jaeger_ui.h). A path is joined
 * to the directory only after refusing "..", and the file found is
 * resolved again with realpath, so neither a path nor a symlink inside the
 * build can reach a file outside it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "jaeger/jaeger_ui.h"

#define UI_MAX_FILE_BYTES (64u << 20)

struct jaeger_ui {
	char *root; /* realpath of the directory, no trailing slash */
};

int
jaeger_ui_open(jaeger_ui **out, const char *dir, char **cause)
{
	char *root = realpath(dir, NULL), *index;
	struct stat sb;

	*out = NULL;
	if (root == NULL) {
		xasprintf(cause, "--ui-dir %s: %s", dir, strerror(errno));
		return -1;
	}
	xasprintf(&index, "%s/index.html", root);
	if (stat(index, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		xasprintf(cause, "--ui-dir %s: no index.html (expecting a Jaeger "
		    "UI build)", dir);
		free(index);
		free(root);
		return -1;
	}
	free(index);
	*out = xcalloc(1, sizeof **out);
	(*out)->root = root;
	return 0;
}

void
jaeger_ui_close(jaeger_ui *ui)
{
	if (ui == NULL)
		return;
	free(ui->root);
	free(ui);
}

static const char *
content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".ico", "image/x-icon" },
		{ ".woff", "font/woff" },
		{ ".woff2", "font/woff2" },
		{ ".ttf", "font/ttf" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot != NULL && i < ARRAY_LEN(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* Reads the regular file at path, if it resolves inside root. */
static int
read_inside(const char *root, const char *path, char **body, size_t *len)
{
	char *real = realpath(path, NULL);
	size_t rl = strlen(root);
	struct stat sb;
	FILE *f = NULL;
	int rv = -1;

	if (real == NULL || strncmp(real, root, rl) != 0 || real[rl] != '/' ||
	    stat(real, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > UI_MAX_FILE_BYTES || (f = fopen(real, "rb")) == NULL)
		goto out;
	*body = xmalloc((size_t)sb.st_size + 1);
	*len = fread(*body, 1, (size_t)sb.st_size, f);
	if (*len == (size_t)sb.st_size) {
		rv = 0;
	} else {
		free(*body);
		*body = NULL;
	}
out:
	if (f != NULL)
		fclose(f);
	free(real);
	return rv;
}

/* A path the UI's router owns: no extension in its last segment and not
 * under /static/ (where a missing file is a real 404). */
static int
is_route(const char *path)
{
	const char *last = strrchr(path, '/');

	return strncmp(path, "/static/", 8) != 0 &&
	    strchr(last ? last : path, '.') == NULL;
}

unsigned
jaeger_ui_file(const jaeger_ui *ui, const char *path, char **body,
    size_t *len, const char **ctype)
{
	char *full;
	int rv;

	*body = NULL;
	*len = 0;
	if (path[0] != '/' || strstr(path, "..") != NULL ||
	    strlen(path) > PATH_MAX / 2)
		return 404;
	xasprintf(&full, "%s%s", ui->root, path);
	rv = read_inside(ui->root, full, body, len);
	free(full);
	if (rv == 0) {
		*ctype = content_type(path);
		return 200;
	}
	if (!is_route(path))
		return 404;
	xasprintf(&full, "%s/index.html", ui->root);
	rv = read_inside(ui->root, full, body, len);
	free(full);
	*ctype = content_type("index.html");
	return rv == 0 ? 200 : 404;
}
