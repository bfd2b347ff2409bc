/*
 * notes.c — what the JPM module keeps about a job besides the job itself:
 * its notes (GET/POST /jobs/{id}/notes; the export/job-notes feed), its
 * history (GET /jobs/{id}/history; the export/job-history feed), and the job
 * custom field types (GET /jobs/custom-fields). The history itself is kept
 * by history.c.
 *
 * Notes are append-only, pinned ones listed first; the NoteResponse of jobs
 * has no id (the feed's rows do). The history is one row per job,
 * {jobId, history: [{id, employeeId, eventType, date, usedSchedulingTool,
 * memo}]}, appended to by every change the API makes (jpm_history_add);
 * the event names are stsim's (docs/stsim.md, Assumptions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/jpm/jpm_int.h"

#define NOTE_TEXT_MAX 10000

static json_t *job_or_404(struct sim_call *c, int64_t *id)
{
    if (!sim_param_id(c, "id", id))
        return NULL;
    json_t *job = sim_get(c->tenant, SIM_JOB, *id);
    if (job == NULL)
        sim_not_found(c, "Job not found");
    return job;
}

/* ---- history ----------------------------------------------------------------------------- */

static void history_get(struct sim_call *c)
{
    int64_t id;
    if (job_or_404(c, &id) == NULL)
        return;
    json_t *row = jpm_history_row(c->tenant, id);
    json_t *h = row != NULL ? json_deep_copy(json_object_get(row, "history")) : json_array();
    sim_reply(c, 200, json_pack("{s:o}", "history", h));
}

/* The feed's entries carry no memo (ExportJobHistoryEntry). */
static json_t *history_export_present(struct sim_call *c, const json_t *row, void *ud)
{
    json_t *out = sim_public(row);
    size_t i;
    json_t *e;

    json_array_foreach (json_object_get(out, "history"), i, e)
        json_object_del(e, "memo");
    return out;
}

static void history_export(struct sim_call *c)
{
    struct sim_export_opts o = {.present = history_export_present};
    sim_export(c, SIM_JOB_HISTORY, &o);
}

/* ---- notes ------------------------------------------------------------------------------ */

static void note_create(struct sim_call *c)
{
    static const struct sim_field f[] = {
        {"text", SIM_F_STR, true, false},
        {"pinToTop", SIM_F_BOOL, false, true},
    };
    int64_t id;
    if (job_or_404(c, &id) == NULL || !sim_check_body(c, f, AP_COUNTOF(f)))
        return;
    const char *text = json_string_value(json_object_get(c->body, "text"));
    if (*text == '\0' || strlen(text) > NOTE_TEXT_MAX) {
        sim_problem_field(c, "text", "The note needs 1 to %d characters.", NOTE_TEXT_MAX);
        return;
    }
    json_t *row =
        json_pack("{s:s, s:b, s:I, s:I, s:b}", "text", text, "isPinned",
                  json_is_true(json_object_get(c->body, "pinToTop")), "createdById",
                  (json_int_t)jpm_actor_id(c->tenant), "jobId", (json_int_t)id, "_active", 1);
    int64_t nid = sim_add(c->sim, c->tenant, SIM_JOB_NOTE, row);
    json_t *out = sim_public(sim_get(c->tenant, SIM_JOB_NOTE, nid));
    json_object_del(out, "jobId");
    sim_reply(c, 200, out);
}

static json_t *note_present(struct sim_call *c, const json_t *row, void *ud)
{
    json_t *out = sim_public(row);
    json_object_del(out, "jobId"); /* not in the job's NoteResponse */
    return out;
}

static void note_list(struct sim_call *c)
{
    int64_t id;
    size_t n, m = 0;
    if (job_or_404(c, &id) == NULL)
        return;
    int64_t *ids = jpm_ids_by(c->tenant, SIM_JOB_NOTE, "jobId", id, &n);
    int64_t *order = malloc((n + 1) * sizeof(*order));
    for (int pass = 0; pass < 2; pass++) { /* pinned ones first */
        for (size_t i = 0; i < n; i++) {
            const json_t *note = sim_get(c->tenant, SIM_JOB_NOTE, ids[i]);
            if (json_is_true(json_object_get(note, "isPinned")) == (pass == 0))
                order[m++] = ids[i];
        }
    }
    struct sim_list_opts o = {
        .has_cand = true, .cand = order, .ncand = m, .keep_order = true, .present = note_present};
    sim_list(c, SIM_JOB_NOTE, &o);
    free(order);
    free(ids);
}

static json_t *note_export_present(struct sim_call *c, const json_t *row, void *ud)
{
    json_t *out = sim_public(row);
    json_object_set_new(out, "id", json_integer(sim_row_id(row)));
    json_object_set_new(out, "active", json_boolean(json_is_true(json_object_get(row, "_active"))));
    return out;
}

static void note_export(struct sim_call *c)
{
    struct sim_export_opts o = {.present = note_export_present};
    sim_export(c, SIM_JOB_NOTE, &o);
}

/* ---- custom field types ----------------------------------------------------------------- */

static bool cft_of_jobs(struct sim_call *c, const json_t *row, void *ud, bool *stop)
{
    return strcmp(sim_row_str(row, "_for") ? sim_row_str(row, "_for") : "", "job") == 0;
}

static void cft_list(struct sim_call *c)
{
    static const char *const sort[] = {"Id", "Name", "CreatedOn", "ModifiedOn", NULL};
    struct sim_list_opts o = {.sort = sort, .dates = true, .match = cft_of_jobs};
    sim_list(c, SIM_CUSTOM_FIELD_TYPE, &o);
}

void jpm_note_routes(struct sim *s, struct ap_router *r)
{
    const char *R = "tn.jpm.jobs:r", *W = "tn.jpm.jobs:w";
    sim_api_route(s, r, "GET", "jpm", "/jobs/:id/notes", R, note_list);
    sim_api_route(s, r, "POST", "jpm", "/jobs/:id/notes", W, note_create);
    sim_api_route(s, r, "GET", "jpm", "/jobs/:id/history", R, history_get);
    sim_api_route(s, r, "GET", "jpm", "/jobs/custom-fields", R, cft_list);
    sim_api_route(s, r, "GET", "jpm", "/export/job-notes", R, note_export);
    sim_api_route(s, r, "GET", "jpm", "/export/job-history", R, history_export);
}
