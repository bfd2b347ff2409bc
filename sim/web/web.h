/*
 * web.h — stsim's web host: the tenant-side pages (Settings → Integrations
 * → API Application Access), the developer portal and their login forms.
 */
#ifndef SIM_WEB_WEB_H
#define SIM_WEB_WEB_H

#include "sim/core/model.h"

/* Registers every page on the web host's router. */
void sim_web_routes(struct sim *s, struct ap_router *r);

#endif
