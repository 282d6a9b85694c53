/*
 * ui_assets.h — the web viewer's files (the files of server/ui/), embedded in the maif
 * binary. The table is generated at build time by scripts/embed-ui.py into
 * build/gen/ui_assets.c; `maif serve` answers /ui/PATH from it.
 */
#ifndef MAIF_SERVER_UI_ASSETS_H
#define MAIF_SERVER_UI_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path;          /* relative to /ui/, e.g. "app.js" */
    const char *content_type;  /* e.g. "text/javascript; charset=utf-8" */
    const unsigned char *data; /* static, never freed */
    size_t len;
} ui_asset;

/* The asset at PATH (relative to /ui/; "" or "index.html" is the page), or
 * NULL when there is none. The result is static. */
const ui_asset *ui_asset_find(const char *path);

#endif
