/* SPDX-License-Identifier: MIT */
/*
 * The names Python's import finds in the first directory on its path, for
 * the modules its own tools import: a `python3` started in a project (`-i`,
 * `-c`, `-m venv`, `-m pip`, a script there) puts the working directory
 * before the standard library, so an `inspect.py`, a `logging.pyc`, a
 * `json/__init__.py` or a `readline.cpython-311-x86_64-linux-gnu.so` made at
 * a project's top runs in place of the module it is named after.  Builtin
 * and frozen modules come before the path; the rest do not, and which of
 * them a tool imports changes from version to version: every standard name
 * is taken (the union of `sys.stdlib_module_names` over Python 3.10 to 3.14,
 * which defines it), with pip's and setuptools' own (`-m pip`, and `-m
 * venv` through ensurepip), and the names the library itself imports that
 * the list leaves out (an outside review ran them at the host's `python3
 * -m venv` and `-m http.server`): the configuration sysconfig imports by a
 * name it builds (`_sysconfigdata_` and the platform's, by prefix), Jython's
 * and VMS's modules tried in a try block (`org`, `java`, `vms_lib`),
 * Debian's `_distutils_system_mod`, site's `sitecustomize` and
 * `usercustomize` (`-m site`).
 *
 * The forms, as importlib's FileFinder tries them in a directory: a
 * package STEM/ holding __init__ with one of the suffixes below (a
 * directory without one is a namespace package, which a regular module
 * later on the path wins over), then STEM with a suffix: `.py`, `.pyc` (a
 * module without source), `.so`, `.abi3.so` and `.TAG.so` (an extension
 * module; TAG as `cpython-311-x86_64-linux-gnu`, taken for any word).  A
 * cached `__pycache__/STEM.TAG.pyc` is read only for a STEM.py beside it.
 *
 * protect.c says where they are judged (the tops of projects) and what is
 * done with them.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

/* sorted as strcmp() sorts (bsearch; test_pymodules.c checks it) */
STRING_TABLE_BEGIN
static const char py_names[][28] = {
    "__future__",
    "_abc",
    "_aix_support",
    "_android_support",
    "_ast",
    "_asyncio",
    "_bisect",
    "_blake2",
    "_bootsubprocess",
    "_bz2",
    "_codecs",
    "_codecs_cn",
    "_codecs_hk",
    "_codecs_iso2022",
    "_codecs_jp",
    "_codecs_kr",
    "_codecs_tw",
    "_collections",
    "_collections_abc",
    "_colorize",
    "_compat_pickle",
    "_compression",
    "_contextvars",
    "_crypt",
    "_csv",
    "_ctypes",
    "_curses",
    "_curses_panel",
    "_datetime",
    "_dbm",
    "_decimal",
    "_distutils_hack",
    "_distutils_system_mod",
    "_elementtree",
    "_frozen_importlib",
    "_frozen_importlib_external",
    "_functools",
    "_gdbm",
    "_hashlib",
    "_heapq",
    "_hmac",
    "_imp",
    "_interpchannels",
    "_interpqueues",
    "_interpreters",
    "_io",
    "_ios_support",
    "_json",
    "_locale",
    "_lsprof",
    "_lzma",
    "_markupbase",
    "_md5",
    "_msi",
    "_multibytecodec",
    "_multiprocessing",
    "_opcode",
    "_opcode_metadata",
    "_operator",
    "_osx_support",
    "_overlapped",
    "_pickle",
    "_posixshmem",
    "_posixsubprocess",
    "_py_abc",
    "_pydatetime",
    "_pydecimal",
    "_pyio",
    "_pylong",
    "_pyrepl",
    "_queue",
    "_random",
    "_scproxy",
    "_sha1",
    "_sha2",
    "_sha256",
    "_sha3",
    "_sha512",
    "_signal",
    "_sitebuiltins",
    "_socket",
    "_sqlite3",
    "_sre",
    "_ssl",
    "_stat",
    "_statistics",
    "_string",
    "_strptime",
    "_struct",
    "_suggestions",
    "_symtable",
    "_sysconfig",
    "_thread",
    "_threading_local",
    "_tkinter",
    "_tokenize",
    "_tracemalloc",
    "_typing",
    "_uuid",
    "_warnings",
    "_weakref",
    "_weakrefset",
    "_winapi",
    "_winreg",
    "_wmi",
    "_zoneinfo",
    "_zstd",
    "abc",
    "aifc",
    "annotationlib",
    "antigravity",
    "argparse",
    "array",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "atexit",
    "audioop",
    "base64",
    "bdb",
    "binascii",
    "binhex",
    "bisect",
    "builtins",
    "bz2",
    "cProfile",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "compression",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "distutils",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "genericpath",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "idlelib",
    "imaplib",
    "imghdr",
    "imp",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "java",
    "json",
    "keyword",
    "lib2to3",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msilib",
    "msvcrt",
    "multiprocessing",
    "netrc",
    "nis",
    "nntplib",
    "nt",
    "ntpath",
    "nturl2path",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "org",
    "os",
    "ossaudiodev",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pip",
    "pipes",
    "pkg_resources",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posix",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pyclbr",
    "pydoc",
    "pydoc_data",
    "pyexpat",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "setuptools",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "sitecustomize",
    "smtpd",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "spwd",
    "sqlite3",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sys",
    "sysconfig",
    "syslog",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "this",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "turtledemo",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "usercustomize",
    "uu",
    "uuid",
    "venv",
    "vms_lib",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "winreg",
    "winsound",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
};
STRING_TABLE_END

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

bool py_std_name(const char *stem)
{
	return bsearch(stem, py_names, ARRAY_SIZE(py_names), sizeof(py_names[0]), cmp_name) ||
	       strncmp(stem, "_sysconfigdata", 14) == 0;
}

bool py_std_name_n(const char *stem, size_t n)
{
	char s[NAME_MAX + 1];

	if (n >= sizeof(s))
		return false;
	memcpy(s, stem, n);
	s[n] = '\0';
	return py_std_name(s);
}

/* Whether SUFFIX (from the first dot of a name on) is one a module is
 * imported from. */
static bool module_suffix(const char *suffix)
{
	static const char *const exact[] = {".py", ".pyc", ".so", ".abi3.so"};

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strcmp(suffix, exact[i]) == 0)
			return true;
	/* ".TAG.so", TAG one word */
	size_t n = strlen(suffix);
	const char *dot = strchr(suffix + 1, '.');
	return n > 4 && dot && dot > suffix + 1 && strcmp(dot, ".so") == 0 &&
	       strcspn(suffix, " \t\n") == n;
}

enum py_form py_std_form(const char *name, char *stem, size_t size)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);

	if (!n || n >= size)
		return PY_NONE;
	memcpy(stem, name, n);
	stem[n] = '\0';
	if (!py_std_name(stem))
		return PY_NONE;
	if (!dot)
		return PY_PACKAGE;
	return module_suffix(dot) ? PY_MODULE : PY_NONE;
}

bool py_init_name(const char *name)
{
	return strncmp(name, "__init__.", 9) == 0 && module_suffix(name + 8);
}

const char *py_std_at(size_t i)
{
	return i < ARRAY_SIZE(py_names) ? py_names[i] : NULL;
}
