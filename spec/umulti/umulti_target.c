/* spec/attach15_spec.lua: a process with functions for uprobe_multi to
 * match by glob ("umulti_fn_*" matches two, umulti_other does not). It
 * prints "ready", then for each line on stdin calls the three functions and
 * prints "done <n>". noipa: no clones (umulti_fn_one.constprop.0) that the
 * glob would also match. */
#include <stdio.h>

__attribute__((noipa)) int umulti_fn_one(int x) { return x + 1; }
__attribute__((noipa)) int umulti_fn_two(int x) { return x + 2; }
__attribute__((noipa)) int umulti_other(int x) { return x + 3; }

int main(void)
{
	char line[256];
	int n = 0, sum = 0;

	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		sum += umulti_fn_one(n) + umulti_fn_two(n) + umulti_other(n);
		printf("done %d\n", ++n);
		fflush(stdout);
	}
	return sum == -1;
}
