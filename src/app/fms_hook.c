/*
 * fms_hook.c — how "Add to ServiceTitan" asks the operator's side to add a
 * contractor's tenant to the app (in ServiceTitan that is the developer
 * adding the Tenant ID in the developer portal; in the demo, stsim's control
 * API `POST {controlUrl}/apps/{appId}/tenants`).
 *
 *   none     nothing to do (the operator adds tenants by hand);
 *   command  `/bin/sh -c HOOK` with TENANT_ID in its environment, stdin from
 *            /dev/null, its output on our stderr; exit 0 within 30 s is
 *            success, anything else failure (the process group is killed on
 *            a timeout);
 *   url      POST HOOK with the JSON body {"tenantId": N}; 2xx is success, and
 *            so is 409 (the tenant was added already).
 *
 * Both block the calling thread: worker threads or the CLI only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/fms_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "httpc/httpc.h"

#define HOOK_TIMEOUT_MS 30000

extern char **environ;

/* environ plus TENANT_ID=n (built before fork: the child only calls exec). */
static char **hook_env(int64_t tenant_id, char *tenant_var, size_t len)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = ap_xcalloc(n + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "TENANT_ID=", 10) != 0)
            env[k++] = environ[i];
    }
    snprintf(tenant_var, len, "TENANT_ID=%lld", (long long)tenant_id);
    env[k] = tenant_var;
    return env;
}

/* Waits for pid up to the timeout; -1 when it had to be killed. */
static int wait_child(pid_t pid)
{
    int64_t deadline = ap_clock_mono_ns() + (int64_t)HOOK_TIMEOUT_MS * 1000000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -1;
        if (ap_clock_mono_ns() > deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static enum ap_err run_command(const char *cmd, int64_t tenant_id, char *why, size_t whylen)
{
    char var[40];
    char **env = hook_env(tenant_id, var, sizeof(var));
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(2, 1);
        execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, env);
        _exit(127);
    }
    if (devnull >= 0)
        close(devnull);
    free(env);
    if (pid < 0) {
        snprintf(why, whylen, "could not start it: %s", strerror(errno));
        return AP_EIO;
    }
    int code = wait_child(pid);
    if (code == 0)
        return AP_OK;
    if (code < 0)
        snprintf(why, whylen, "it did not finish within %d seconds", HOOK_TIMEOUT_MS / 1000);
    else
        snprintf(why, whylen, "it exited with status %d", code);
    return AP_EUNAVAIL;
}

static enum ap_err post_url(const char *url, int64_t tenant_id, char *why, size_t whylen)
{
    struct ap_httpc_opts o = {.connect_timeout_ms = 5000, .total_timeout_ms = HOOK_TIMEOUT_MS};
    struct ap_httpc *c = ap_httpc_new(&o);
    if (!c) {
        snprintf(why, whylen, "no HTTP client");
        return AP_EINTERNAL;
    }
    char body[64];
    int n = snprintf(body, sizeof(body), "{\"tenantId\":%lld}", (long long)tenant_id);
    const char *hdrs[] = {"Content-Type: application/json", "Accept: application/json", NULL};
    struct ap_httpc_req rq = {
        .method = "POST", .url = url, .headers = hdrs, .body = body, .body_len = (size_t)n};
    struct ap_httpc_resp resp = {0};
    enum ap_err err = ap_httpc_do(c, &rq, &resp);
    bool ok = (resp.status >= 200 && resp.status <= 299) || resp.status == 409;
    if (err) {
        snprintf(why, whylen, "%s", resp.errmsg);
    } else if (!ok) {
        snprintf(why, whylen, "it answered HTTP %ld", resp.status);
        err = AP_EUNAVAIL;
    }
    ap_httpc_resp_cleanup(&resp);
    ap_httpc_free(c);
    return err;
}

enum ap_err ap_fms_run_hook(struct ap_fms *f, int64_t tenant_id, struct ap_fms_error *e)
{
    char why[300] = "";
    enum ap_err err = AP_OK;
    if (f->hook_kind == AP_FMS_HOOK_NONE)
        return AP_OK;
    if (!f->hook || !*f->hook) {
        snprintf(why, sizeof(why), "no fms-hook is configured");
        err = AP_EINVAL;
    } else if (f->hook_kind == AP_FMS_HOOK_COMMAND) {
        err = run_command(f->hook, tenant_id, why, sizeof(why));
    } else {
        err = post_url(f->hook, tenant_id, why, sizeof(why));
    }
    if (err == AP_OK) {
        ap_log_info("fms.hook_ok", "tenant=%lld kind=%s", (long long)tenant_id,
                    f->hook_kind == AP_FMS_HOOK_COMMAND ? "command" : "url");
        return AP_OK;
    }
    char q[400];
    ap_log_warn("fms.hook_failed", "tenant=%lld why=%s", (long long)tenant_id,
                ap_log_quote(why, q, sizeof(q)));
    return ap_fms_fail(e, AP_FMS_E_ADD_FAILED,
                       "Could not add tenant %lld to the app in ServiceTitan (%.150s). Nothing "
                       "changed: try \"Add to ServiceTitan\" again in a minute; if it keeps "
                       "failing, contact support.",
                       (long long)tenant_id, why);
}
