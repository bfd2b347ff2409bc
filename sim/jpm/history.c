/*
 * history.c — a job's history: one SIM_JOB_HISTORY row per job,
 * {jobId, history: [{id, employeeId, eventType, date, usedSchedulingTool,
 * memo}]}, appended to by every change the API makes to the job or its
 * appointments. The event names are stsim's (docs/stsim.md, Assumptions).
 */
#include <stdlib.h>

#include "sim/jpm/jpm_int.h"

json_t *jpm_history_row(struct sim_tenant *t, int64_t job_id)
{
    size_t n;
    int64_t *ids = jpm_ids_by(t, SIM_JOB_HISTORY, "jobId", job_id, &n);
    json_t *row = n > 0 ? sim_get(t, SIM_JOB_HISTORY, ids[0]) : NULL;

    free(ids);
    return row;
}

void jpm_history_add(struct sim *s, struct sim_tenant *t, int64_t job_id, const char *event,
                     const char *memo)
{
    json_t *row = jpm_history_row(t, job_id);
    json_t *entry = json_pack("{s:I, s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)s->next_id++,
                              "employeeId", (json_int_t)jpm_actor_id(t), "eventType", event, "date",
                              sim_time_json(sim_now(s)), "usedSchedulingTool", "Manual", "memo",
                              memo != NULL ? memo : "");

    if (row == NULL) {
        row = json_pack("{s:I, s:[o]}", "jobId", (json_int_t)job_id, "history", entry);
        sim_add(s, t, SIM_JOB_HISTORY, row);
        return;
    }
    json_array_append_new(json_object_get(row, "history"), entry);
    sim_touch(s, t, SIM_JOB_HISTORY, row, false);
}
