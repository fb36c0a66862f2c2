/* SPDX-License-Identifier: MIT */
/* The names Python imports a standard module from in a directory on its
 * path (pymodules.c): every form importlib's FileFinder takes, and nothing
 * that only looks like one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/supervisor.h"

static void test_table_is_sorted(void **state)
{
	const char *prev = NULL, *s;
	size_t n = 0;

	(void)state;
	/* bsearch() finds every name only in a sorted table */
	for (size_t i = 0; (s = py_std_at(i)); i++, n++) {
		if (prev && strcmp(prev, s) >= 0)
			fail_msg("not sorted: %s before %s", prev, s);
		if (!py_std_name(s))
			fail_msg("%s not found", s);
		prev = s;
	}
	assert_true(n > 300);
}

static void test_forms(void **state)
{
	static const struct {
		const char *name;
		enum py_form form;
		const char *stem;
	} cases[] = {
	    {"inspect.py", PY_MODULE, "inspect"},
	    {"logging.pyc", PY_MODULE, "logging"},
	    {"argparse.so", PY_MODULE, "argparse"},
	    {"json.abi3.so", PY_MODULE, "json"},
	    {"readline.cpython-311-x86_64-linux-gnu.so", PY_MODULE, "readline"},
	    {"readline.cpython-313d-x86_64-linux-gnu.so", PY_MODULE, "readline"},
	    {"_socket.pypy39-pp73-x86_64-linux-gnu.so", PY_MODULE, "_socket"},
	    {"cProfile.py", PY_MODULE, "cProfile"},
	    {"__future__.py", PY_MODULE, "__future__"},
	    {"_frozen_importlib_external.py", PY_MODULE, "_frozen_importlib_external"},
	    {"pip.py", PY_MODULE, "pip"},
	    {"setuptools.py", PY_MODULE, "setuptools"},
	    {"distutils.py", PY_MODULE, "distutils"},	      /* 3.11's */
	    {"annotationlib.py", PY_MODULE, "annotationlib"}, /* 3.14's */
	    /* what the library imports by a name the list leaves out */
	    {"_sysconfigdata__x86_64-linux-gnu.py", PY_MODULE, "_sysconfigdata__x86_64-linux-gnu"},
	    {"_sysconfigdata__linux_x86_64-linux-gnu.pyc", PY_MODULE,
	     "_sysconfigdata__linux_x86_64-linux-gnu"},
	    {"org.py", PY_MODULE, "org"},
	    {"org", PY_PACKAGE, "org"},
	    {"java.py", PY_MODULE, "java"},
	    {"_distutils_system_mod.py", PY_MODULE, "_distutils_system_mod"},
	    {"usercustomize.py", PY_MODULE, "usercustomize"},
	    {"json", PY_PACKAGE, "json"},
	    {"html", PY_PACKAGE, "html"},
	    /* not a form the import takes */
	    {"inspect.py.ringfence-blocked", PY_NONE, NULL},
	    {"inspect.txt", PY_NONE, NULL},
	    {"inspect.pyo", PY_NONE, NULL},
	    {"inspect.", PY_NONE, NULL},
	    {"inspect..so", PY_NONE, NULL},
	    {"inspect.a.b.so", PY_NONE, NULL},
	    {"inspect.a b.so", PY_NONE, NULL},
	    {"Inspect.py", PY_NONE, NULL},
	    {"inspects.py", PY_NONE, NULL},
	    {"mymodule.py", PY_NONE, NULL},
	    {"test.py", PY_NONE, NULL},	  /* not in sys.stdlib_module_names */
	    {"parser.py", PY_NONE, NULL}, /* gone in 3.10 */
	    {"_sysconfig_data.py", PY_NONE, NULL},
	    {"tests", PY_NONE, NULL},
	    {".py", PY_NONE, NULL},
	    {"", PY_NONE, NULL},
	    {"a_name_longer_than_any_standard_one_at_all.py", PY_NONE, NULL},
	};
	char stem[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum py_form f = py_std_form(cases[i].name, stem, sizeof(stem));
		if (f != cases[i].form)
			fail_msg("%s: %d, not %d", cases[i].name, f, cases[i].form);
		if (f != PY_NONE && strcmp(stem, cases[i].stem) != 0)
			fail_msg("%s: stem %s", cases[i].name, stem);
	}
}

static void test_init_names(void **state)
{
	(void)state;
	assert_true(py_init_name("__init__.py"));
	assert_true(py_init_name("__init__.pyc"));
	assert_true(py_init_name("__init__.so"));
	assert_true(py_init_name("__init__.cpython-311-x86_64-linux-gnu.so"));
	assert_false(py_init_name("__init__"));
	assert_false(py_init_name("__init__.py.ringfence-blocked"));
	assert_false(py_init_name("__init__.txt"));
	assert_false(py_init_name("__main__.py"));
	assert_false(py_init_name("x__init__.py"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_is_sorted),
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_init_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
