/*
 * load_c - the reference side of spec/compat_spec.lua: open and load a BPF
 * object with plain libbpf, the way a C program written against libbpf does,
 * and print a canonical description of the result.
 *
 *   load_c OBJECT [PROGRAM...]
 *
 * Each PROGRAM named after the object is turned off with
 * bpf_program__set_autoload(false) before the load. The output, one line each:
 *
 *   map NAME TYPE KEY VALUE MAX
 *   prog NAME TYPE SECTION loaded=0|1
 *   load 0 | load ERRNO
 *
 * or, when libbpf cannot open the object, the single line "open ERRNO".
 * The Lua spec prints the same lines through the Lua API and compares them.
 * Exit status: 0 when the description was printed (whatever libbpf did),
 * 1 when a PROGRAM does not exist.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

/* Keep libbpf's own chatter out of the description on stdout. */
static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static const char *or_unknown(const char *s)
{
	return s ? s : "unknown";
}

static void describe(struct bpf_object *obj, int load_err)
{
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		printf("map %s %s %u %u %u\n", bpf_map__name(map),
		       or_unknown(libbpf_bpf_map_type_str(bpf_map__type(map))),
		       bpf_map__key_size(map), bpf_map__value_size(map),
		       bpf_map__max_entries(map));
	bpf_object__for_each_program(prog, obj)
		printf("prog %s %s %s loaded=%d\n", bpf_program__name(prog),
		       or_unknown(libbpf_bpf_prog_type_str(bpf_program__type(prog))),
		       bpf_program__section_name(prog),
		       bpf_program__fd(prog) >= 0);
	printf("load %d\n", load_err < 0 ? -load_err : load_err);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	int i, err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s OBJECT [PROGRAM-TO-TURN-OFF...]\n",
			argv[0]);
		return 2;
	}
	libbpf_set_print(quiet_print);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open %d\n", errno);
		return 0;
	}
	for (i = 2; i < argc; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(obj, argv[i]);

		if (!prog) {
			fprintf(stderr, "%s: no program '%s' in %s\n", argv[0],
				argv[i], argv[1]);
			bpf_object__close(obj);
			return 1;
		}
		bpf_program__set_autoload(prog, false);
	}
	err = bpf_object__load(obj);
	describe(obj, err);
	bpf_object__close(obj);
	return 0;
}
