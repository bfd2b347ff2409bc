# bench/lib/nginx.sh — sourced by benchmarks that compare with nginx: the
# ceiling an HTTP server reaches on this machine.
#
#   source bench/lib/nginx.sh
#   nginx_start DIR OUT PORT [LOCATIONS]
#       runs nginx (2 workers, no access log) from DIR on 127.0.0.1:PORT in the
#       background, logging to OUT/nginx.stderr; it answers GET /healthz with a
#       fixed {"status":"ok"} plus the nginx config text LOCATIONS (e.g. a
#       location serving a file). Sets $nginx_pid; stop it with nginx_stop.

nginx_pid=

nginx_start() {
    local dir=$1 out=$2 port=$3 more=${4:-}
    local bin
    bin=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        location = /healthz {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
        $more
    }
}
CONF
    "$bin" -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;' >"$out/nginx.stderr" 2>&1 &
    nginx_pid=$!
}

nginx_stop() {
    if [[ -n $nginx_pid ]]; then
        kill -QUIT "$nginx_pid" 2>/dev/null
        wait "$nginx_pid" 2>/dev/null
        nginx_pid=
    fi
}
