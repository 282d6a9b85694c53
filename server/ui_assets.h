/*
 * ui_assets.h — the web viewer's files, embedded in the maif binary and
 * served by `maif serve` at /ui/ (serve_routes.c). The table and
 * ui_asset_find are generated with the viewer's sources (the viewer's
 * generator writes server/ui_assets.c); the server only looks files up.
 */
#ifndef MAIF_SERVER_UI_ASSETS_H
#define MAIF_SERVER_UI_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path;          /* relative to /ui/, e.g. "index.html", "app.js" */
    const char *content_type;  /* e.g. "text/html; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} ui_asset;

/* The asset at path (relative to /ui/, no leading slash; "index.html"
 * for the directory itself), or NULL. The table is static: the result
 * lives as long as the program. */
const ui_asset *ui_asset_find(const char *path);

#endif
