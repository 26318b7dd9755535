/*
 * test_limits.c - `ipcbench limits`, run as a process: its JSON is parsed
 * and every figure checked for presence, unit-carrying key and sanity
 * (positive, finite; a system call costs more than a clock read when the
 * clock is read without one), never for speed; bad input gives exit 2, one
 * line on stderr and nothing on stdout.
 *
 * Usage: test_limits IPCBENCH
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *ipcbench;

struct output {
	int status; /* exit code, or -1 if killed */
	char out[8192];
	char err[4096];
};

static void slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
		if (r < 0) {
			assert_int_equal(errno, EINTR);
			continue;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
}

/* Runs ipcbench with args (NULL-terminated, after "limits"). Both outputs
 * are small, so reading stdout to its end before stderr cannot block. */
static void run_limits(struct output *o, const char *const *args)
{
	const char *argv[16] = { ipcbench, "limits" };
	int out[2], err[2], st;
	size_t n = 2;
	pid_t pid;

	while (*args)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(ipcbench, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	slurp(out[0], o->out, sizeof(o->out));
	slurp(err[0], o->err, sizeof(o->err));
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double positive(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	double x;

	if (!v)
		fail_msg("key %s missing", key);
	assert_true(json_is_number(v));
	x = json_number_value(v);
	if (!(x > 0 && isfinite(x)))
		fail_msg("%s = %g, want a positive number", key, x);
	return x;
}

/* True when clock_gettime is served by the vDSO, without a system call:
 * the clock sources Linux reads from user space on x86 and arm64. */
static bool clock_in_vdso(void)
{
	static const char *const vdso[] = { "tsc", "kvm-clock",
					    "arch_sys_counter",
					    "hyperv_clocksource_tsc_page" };
	char name[64] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
			"current_clocksource",
			"re");

	if (!f)
		return false;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	for (size_t i = 0; i < sizeof(vdso) / sizeof(vdso[0]); i++)
		if (strcmp(name, vdso[i]) == 0)
			return true;
	return false;
}

static void test_json(void **state)
{
	static const char *const args[] = { "--format", "json", NULL };
	static const char *const sizes[] = { "4096", "65536", "1048576",
					     "67108864" };
	json_error_t jerr;
	struct output o;
	json_t *root, *bw, *a, *b;
	double syscall_ns, clock_ns;

	(void)state;
	run_limits(&o, args);
	if (o.status != 0)
		fail_msg("exit %d, stderr: %s", o.status, o.err);
	root = json_loads(o.out, 0, &jerr);
	if (!root)
		fail_msg("not JSON: %s: %s", jerr.text, o.out);
	assert_true(json_is_object(root));
	a = json_object_get(root, "cpu_a");
	b = json_object_get(root, "cpu_b");
	assert_true(json_is_integer(a) && json_integer_value(a) >= 0);
	assert_true(json_is_integer(b) && json_integer_value(b) >= 0);
	positive(root, "pingpong_ns");
	positive(root, "pingpong_same_cpu_ns");
	positive(root, "futex_rtt_ns");
	syscall_ns = positive(root, "syscall_ns");
	clock_ns = positive(root, "clock_ns");
	if (clock_in_vdso() && !(syscall_ns > clock_ns))
		fail_msg("syscall_ns %g <= clock_ns %g with a vDSO clock",
			 syscall_ns, clock_ns);
	bw = json_object_get(root, "memcpy_bytes_per_s");
	assert_true(json_is_object(bw));
	assert_int_equal(json_object_size(bw), 4);
	for (size_t i = 0; i < 4; i++)
		positive(bw, sizes[i]);
	json_decref(root);
}

/* Each bad input: exit 2, one line on stderr naming it, nothing measured
 * or printed on stdout. */
static void test_bad_input(void **state)
{
	static const char *const cases[][4] = {
		{ "--format", "xml", NULL },
		{ "--cpus", "0", NULL },
		{ "--cpus", "0,x", NULL },
		{ "--cpus", "-1,0", NULL },
		{ "--cpus", "0,5000", NULL },
		{ "--cpus", "0,1023", NULL }, /* valid syntax, no such CPU */
		{ "--bogus", NULL },
		{ "extra", NULL },
	};
	struct output o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *nl;
		run_limits(&o, cases[i]);
		if (o.status != 2)
			fail_msg("%s %s: exit %d, want 2", cases[i][0],
				 cases[i][1] ? cases[i][1] : "", o.status);
		assert_string_equal(o.out, "");
		assert_non_null(strstr(o.err, "ipcbench limits: "));
		nl = strchr(o.err, '\n');
		assert_non_null(nl);
		assert_string_equal(nl + 1, "");
	}
}

static void test_help(void **state)
{
	static const char *const args[] = { "--help", NULL };
	struct output o;

	(void)state;
	run_limits(&o, args);
	assert_int_equal(o.status, 0);
	assert_non_null(strstr(o.out, "usage: ipcbench limits"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_json),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_limits IPCBENCH\n");
		return 2;
	}
	ipcbench = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
