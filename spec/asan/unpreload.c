/* spec/asan/unpreload.c: preloaded after libasan.so into the Lua processes of
 * `make asan` (see spec/asan/lua5.4). lua5.4 itself is not instrumented, so
 * the ASan runtime must come in through LD_PRELOAD; but the specs start ip,
 * tc, bash, clang, make... and those must run as they do in the plain suite.
 * The dynamic loader reads LD_PRELOAD once, at start, so dropping it from the
 * environment here, before main, keeps the runtime in this process only; a Lua
 * child gets it again through the lua5.4 wrapper, which is first in PATH. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A report names only a pid (log_path=DIR/asan.PID): record this process's
 * command line as LBPF_ASAN_PIDS/PID, so the report can say which Lua process
 * (busted, an example, the REPL) it came from. */
static void note_cmdline(void)
{
	const char *dir = getenv("LBPF_ASAN_PIDS");
	char path[4096], buf[4096];
	ssize_t n, i;
	int in, out;

	if (!dir)
		return;
	in = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return;
	n = read(in, buf, sizeof(buf) - 1);
	close(in);
	if (n <= 0)
		return;
	for (i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n - 1] = '\n';
	snprintf(path, sizeof(path), "%s/%d", dir, (int)getpid());
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return;
	if (write(out, buf, n) != n) { /* best effort: only a label */ }
	close(out);
}

/* GCC's libubsan, loaded beside libasan, ignores UBSAN_OPTIONS' log_path and
 * writes to stderr, which Lua children of the specs often send to /dev/null.
 * libubsan's own __sanitizer_set_report_path (found through its handle, not
 * libasan's copy of the symbol) does take effect: point it at
 * LBPF_UBSAN_LOG (a path prefix, reports land in PREFIX.PID). libubsan is
 * preloaded for this, so it is there before libbpf/core.so needs it. */
static void ubsan_log(void)
{
	const char *path = getenv("LBPF_UBSAN_LOG");
	void (*set)(const char *);
	void *h;

	if (!path)
		return;
	h = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!h)
		return;
	set = (void (*)(const char *))dlsym(h, "__sanitizer_set_report_path");
	if (set)
		set(path);
}

__attribute__((constructor)) static void unpreload(void)
{
	unsetenv("LD_PRELOAD");
	note_cmdline();
	ubsan_log();
}

/* lua_close unloads C modules (dlclose) before LeakSanitizer runs at exit,
 * and a leak allocated by an unloaded libbpf/core.so shows only as
 * "<unknown module>". Keeping every library mapped until exit keeps its
 * frames symbolized; nothing in the suite depends on unloading. */
int dlclose(void *handle)
{
	(void)handle;
	return 0;
}
