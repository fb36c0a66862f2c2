/* SPDX-License-Identifier: MIT */
/*
 * A seeded settings file's "env" scrubbed of secrets (supervisor/seed_json.c):
 * an outside review found claude-code.ini's seed carrying settings.json's
 * "env" ANTHROPIC_AUTH_TOKEN into the sandbox.  In the expected outputs
 * '~' stands for a byte blanked (a space), so that each is the input's
 * length, as the scrub keeps every byte's offset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../supervisor/state_internal.h"
#include "../../supervisor/supervisor.h"

/* IN scrubbed: its result, OUT the text (its '~' as spaces) */
static int scrub(const char *in, char *out, size_t size, char *names, size_t nsize)
{
	size_t n = strlen(in);

	assert_true(n < size);
	memcpy(out, in, n + 1);
	return seed_json_scrub(out, n, names, nsize);
}

static void test_env_members_that_may_hold_a_secret_are_blanked(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out, *names;
	} t[] = {
	    /* the only member, first, middle, last: one comma goes with it */
	    {"{\"env\":{\"ANTHROPIC_AUTH_TOKEN\":\"sk-ant-REAL\"},\"model\":\"opus\"}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~},\"model\":\"opus\"}",
	     "ANTHROPIC_AUTH_TOKEN"},
	    {"{\"env\":{\"API_TOKEN\":\"a\",\"MODEL\":\"m\"},\"x\":1}",
	     "{\"env\":{~~~~~~~~~~~~~~~~\"MODEL\":\"m\"},\"x\":1}", "API_TOKEN"},
	    {"{\"env\":{\"A\":\"1\",\"B_KEY\":\"2\",\"C\":\"3\"}}",
	     "{\"env\":{\"A\":\"1\"~~~~~~~~~~~~,\"C\":\"3\"}}", "B_KEY"},
	    {"{\"env\":{\"A\":\"1\",\"B_SECRET\":\"2\"}}", "{\"env\":{\"A\":\"1\"~~~~~~~~~~~~~~~}}",
	     "B_SECRET"},
	    {"{\"env\":{\"A_TOKEN\":\"1\",\"B_TOKEN\":\"2\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "A_TOKEN B_TOKEN"},
	    {"{\"env\":{\"A\":\"1\",\"B_KEY\":\"2\",\"C_KEY\":\"3\",\"D\":\"4\"}}",
	     "{\"env\":{\"A\":\"1\"~~~~~~~~~~~~~~~~~~~~~~~~,\"D\":\"4\"}}", "B_KEY C_KEY"},
	    {"{\"env\":{\"A_KEY\":\"1\",\"B\":\"2\",\"C_KEY\":\"3\"}}",
	     "{\"env\":{~~~~~~~~~~~~\"B\":\"2\"~~~~~~~~~~~~}}", "A_KEY C_KEY"},
	    /* whitespace and line ends stay, the rest of the member goes */
	    {"{\n  \"env\": {\n    \"ANTHROPIC_API_KEY\": \"sk-ant-1\",\n    \"DEBUG\": "
	     "\"1\"\n  },\n  \"model\": \"opus\"\n}\n",
	     "{\n  \"env\": {\n    ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n    \"DEBUG\": "
	     "\"1\"\n  },\n  \"model\": \"opus\"\n}\n",
	     "ANTHROPIC_API_KEY"},
	    /* names and values decoded first */
	    {"{\"env\":{\"ANTHROPIC_AUTH_\\u0054OKEN\":\"x\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "ANTHROPIC_AUTH_TOKEN"},
	    {"{\"\\u0065nv\":{\"X_TOKEN\":\"x\"}}", "{\"\\u0065nv\":{~~~~~~~~~~~~~}}", "X_TOKEN"},
	    {"{\"env\":{\"\\ud83d\\ude00_TOKEN\":\"x\"}}", "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~}}",
	     "\xf0\x9f\x98\x80_TOKEN"},
	    {"{\"env\":{\"DATABASE_URL\":\"postgres://admin:hunter2@db/app\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "DATABASE_URL"},
	    {"{\"env\":{\"DATABASE_URL\":\"postgres:\\/\\/admin:hunter2@db\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "DATABASE_URL"},
	    {"{\"env\":{\"ANTHROPIC_CUSTOM_HEADERS\":\"Authorization: Bearer x\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}",
	     "ANTHROPIC_CUSTOM_HEADERS"},
	    /* a \u0000 would hide the rest of a C string: blanked */
	    {"{\"env\":{\"PATH\\u0000_\":\"1\",\"A\":\"x\\u0000postgres://u:p@h\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "PATH A"},
	    /* not a string under a secret's name, or an object or array */
	    {"{\"env\":{\"A_TOKEN\":123,\"B_KEY\":{\"x\":\"y\"},\"C\":[\"d\"],\"N\":5}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\"N\":5}}", "A_TOKEN B_KEY C"},
	    /* every top-level "env": JSON.parse keeps the last */
	    {"{\"env\":{\"A_TOKEN\":\"1\"},\"model\":\"m\",\"env\":{\"B_TOKEN\":\"2\",\"C\":\"3\"}"
	     "}",
	     "{\"env\":{~~~~~~~~~~~~~},\"model\":\"m\",\"env\":{~~~~~~~~~~~~~~\"C\":\"3\"}}",
	     "A_TOKEN B_TOKEN"},
	    /* (an outside review) a header's key in a value, a list of headers,
	     * a key by its prefix; the commands that print a key */
	    {"{\"env\":{\"A\":\"1\",\"X\":\"Authorization=Bearer T\"}}",
	     "{\"env\":{\"A\":\"1\"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "X"},
	    {"{\"env\":{\"Y\":\"x-api-key: KEY123\",\"B\":\"2\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~\"B\":\"2\"}}", "Y"},
	    {"{\"env\":{\"A\":\"1\",\"Z\":\"sk-ant-api03-AAAAAAAA\"}}",
	     "{\"env\":{\"A\":\"1\"~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "Z"},
	    {"{\"env\":{\"OTEL_EXPORTER_OTLP_HEADERS\":\"team=abc\"}}",
	     "{\"env\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}", "OTEL_EXPORTER_OTLP_HEADERS"},
	    {"{\"apiKeyHelper\":\"echo KEY\",\"model\":\"m\"}",
	     "{~~~~~~~~~~~~~~~~~~~~~~~~~~\"model\":\"m\"}", "apiKeyHelper"},
	    {"{\"model\":\"m\",\"awsAuthRefresh\":[\"x\"]}",
	     "{\"model\":\"m\"~~~~~~~~~~~~~~~~~~~~~~~}", "awsAuthRefresh"},
	    /* (an outside review) secrets anywhere in the file: an "env" at any
	     * depth, a name or value that says so, an array's element */
	    {"{\"hooks\":{\"env\":{\"A_TOKEN\":\"1\"}},\"env\":\"B_TOKEN=2\"}",
	     "{\"hooks\":{\"env\":{~~~~~~~~~~~~~}}~~~~~~~~~~~~~~~~~~}", "A_TOKEN env"},
	    {"[{\"env\":{\"A_TOKEN\":\"1\"}}]", "[{\"env\":{~~~~~~~~~~~~~}}]", "A_TOKEN"},
	    {"{\"statusLine\":\"/bin/key\",\"A_TOKEN\":\"y\"}",
	     "{\"statusLine\":\"/bin/key\"~~~~~~~~~~~~~~}", "A_TOKEN"},
	    {"{\"ENV\":{\"A_TOKEN\":\"1\"},\"envs\":{\"B_TOKEN\":\"2\"}}",
	     "{\"ENV\":{~~~~~~~~~~~~~},\"envs\":{~~~~~~~~~~~~~}}", "A_TOKEN B_TOKEN"},
	    {"{\"hooks\":{\"Stop\":[{\"type\":\"command\",\"command\":\"curl "
	     "https://h.example/x?token=abc\"}]},\"m\":1}",
	     "{\"hooks\":{\"Stop\":[{\"type\":\"command\"~~~~~~~~~~~~~~~~ "
	     "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}]},\"m\":1}",
	     "command"},
	    {"{\"mcpServers\":{\"db\":{\"args\":[\"--url\",\"postgresql://admin:PW@db/app\"]}}}",
	     "{\"mcpServers\":{\"db\":{\"args\":[\"--url\"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~]}}}",
	     "[...]"},
	    /* (a second review) an option's value, a header's name, --password=, a webhook */
	    {"{\"a\":{\"args\":[\"-y\",\"--api-key\",\"d41d8cd98f00b204e9800998ecf8427e\"]}}",
	     "{\"a\":{\"args\":[\"-y\",\"--api-key\"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~]}}",
	     "[...]"},
	    {"{\"a\":{\"headers\":{\"X-Api-Key\":\"9f86d081884c7d659a2f\"}}}",
	     "{\"a\":{\"headers\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}}}", "X-Api-Key"},
	    {"{\"a\":[\"--password=Hunter2Sekrit\"]}", "{\"a\":[~~~~~~~~~~~~~~~~~~~~~~~~~~]}",
	     "[...]"},
	    {"{\"a\":\"curl https://hooks.slack.com/services/T01/B02/q1w2e3\"}",
	     "{~~~~~~~~~ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~}", "a"},
	    /* (a review) a name that is itself a secret, said by its place */
	    {"{\"tokens\":{\"ghp_0123456789abcdefXYZ\":{\"repo\":\"r\"}},\"m\":1}",
	     "{\"tokens\":{~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~},\"m\":1}", "[name]"},
	    {"{\"a\":[\"sshpass -p Hunter2Sekrit ssh\"]}",
	     "{\"a\":[~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~]}", "[...]"},
	    /* a control character in a name is not printed */
	    {"{\"env\":{\"A\\u001b_TOKEN\":\"1\"}}", "{\"env\":{~~~~~~~~~~~~~~~~~~~}}", "A?_TOKEN"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[256], want[256], again[256], names[128];
		size_t n = strlen(t[i].out);
		memcpy(want, t[i].out, n + 1);
		for (size_t k = 0; k < n; k++)
			if (want[k] == '~')
				want[k] = ' ';
		int r = scrub(t[i].in, buf, sizeof(buf), names, sizeof(names));
		if (strcmp(buf, want) != 0)
			print_error("case %zu:\n got  %s\n want %s\n", i, buf, want);
		assert_string_equal(buf, want);
		assert_string_equal(names, t[i].names);
		/* one a name said */
		int said = 1;
		for (const char *c = t[i].names; *c; c++)
			said += *c == ' ';
		assert_int_equal(r, said);
		/* the output is strict JSON again, with nothing left to blank */
		assert_int_equal(scrub(buf, again, sizeof(again), NULL, 0), 0);
		assert_string_equal(again, buf);
	}
}

static void test_the_rest_is_kept_byte_for_byte(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "{\"env\":{}}",
	    "{ \"env\" : { \"MODEL\" :\t\"a\\\"b\" , \"DEBUG\" : \"1\" } }\r\n",
	    "{\"env\":{\"N\":5,\"T\":true,\"F\":false,\"Z\":null,\"MAX_OUTPUT_TOKENS\":\"4096\"}}",
	    /* Claude Code's permission rules, a guard of the user's (a second
	     * review: "Bash(export GITHUB_TOKEN=*)" was blanked) */
	    "{\"permissions\":{\"deny\":[\"Bash(curl -H 'Authorization:*)\",\"Bash(export "
	    "GITHUB_TOKEN=*)\"]}}",
	    /* a header's name that ends the string (read past its end once:
	     * a review, under ASan) */
	    "{\"a\":[\"--header\",\"x-api-key\"]}",
	    /* an "env" that is no object, a command without a secret */
	    "{\"env\":\"MODEL=opus\",\"statusLine\":{\"command\":\"~/bin/line\"}}",
	    "{\"a\":[0,-0,1.5e10,-2E-3,1e+2,\"\\b\\f\\n\\r\\t\\/\\\\\",\"\xc3\xa9\"]}",
	    "\"just a string\"",
	    " 42 ",
	    "null",
	    "{}",
	    "[]",
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[256], names[64];
		assert_int_equal(scrub(t[i], buf, sizeof(buf), names, sizeof(names)), 0);
		assert_string_equal(buf, t[i]);
		assert_string_equal(names, "");
	}
}

static void test_what_is_not_strict_json_is_refused(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "",
	    "   ",
	    "{",
	    "{\"env\":{\"A\":\"1\",}}",
	    "{\"env\":{\"A\":\"1\"},}",
	    "[1,]",
	    "{\"a\" 1}",
	    "{a:1}",
	    "{'a':1}",
	    "{\"a\":'1'}",
	    "// a comment\n{}",
	    "{} /* a comment */",
	    "{\"a\":1}x",
	    "{}{}",
	    "{\"a\":01}",
	    "{\"a\":.5}",
	    "{\"a\":1.}",
	    "{\"a\":1e}",
	    "{\"a\":-}",
	    "{\"a\":+1}",
	    "{\"a\":0x10}",
	    "{\"a\":NaN}",
	    "{\"a\":Infinity}",
	    "{\"a\":tru}",
	    "{\"a\":True}",
	    "{\"a\":\"\x01\"}",
	    "{\"a\":\"line\nend\"}",
	    "{\"a\":\"\\q\"}",
	    "{\"a\":\"\\u12\"}",
	    "{\"a\":\"\\u12G4\"}",
	    "{\"a\":\"unterminated}",
	    "{\"env\":{\"A_TOKEN\":\"1\"",
	    "{\"env\":{\"A_TOKEN\":\"1\\",
	    "\xef\xbb\xbf{}", /* a byte-order mark: JSON.parse refuses it */
	    "{\"a\":1}\v",
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[256];
		if (scrub(t[i], buf, sizeof(buf), NULL, 0) != -EINVAL)
			print_error("case %zu: %s\n", i, t[i]);
		assert_int_equal(scrub(t[i], buf, sizeof(buf), NULL, 0), -EINVAL);
	}
	/* a NUL byte in the text */
	char nul[] = "{\"a\":\"x\0y\"}";
	assert_int_equal(seed_json_scrub(nul, sizeof(nul) - 1, NULL, 0), -EINVAL);
	char nul2[] = "{}\0";
	assert_int_equal(seed_json_scrub(nul2, sizeof(nul2) - 1, NULL, 0), -EINVAL);
}

static void test_nesting_is_limited(void **state)
{
	(void)state;
	char buf[2 * SEED_JSON_DEPTH + 8];
	for (int depth = SEED_JSON_DEPTH - 1; depth <= SEED_JSON_DEPTH + 1; depth++) {
		memset(buf, '[', (size_t)depth);
		memset(buf + depth, ']', (size_t)depth);
		buf[2 * depth] = '\0';
		assert_int_equal(seed_json_scrub(buf, (size_t)(2 * depth), NULL, 0),
				 depth <= SEED_JSON_DEPTH ? 0 : -ELOOP);
	}
}

static void test_names_said_are_cut_when_many(void **state)
{
	(void)state;
	char in[4096], names[64];
	size_t o = (size_t)snprintf(in, sizeof(in), "{\"env\":{");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%s\"VAR%02d_TOKEN\":\"x\"",
				      i ? "," : "", i);
	snprintf(in + o, sizeof(in) - o, "}}");
	assert_int_equal(seed_json_scrub(in, strlen(in), names, sizeof(names)), 40);
	assert_true(strlen(names) < sizeof(names));
	assert_non_null(strstr(names, "VAR00_TOKEN VAR01_TOKEN"));
	assert_string_equal(names + strlen(names) - 4, " ...");
	assert_null(strstr(in, "TOKEN"));
	assert_string_equal(in + strlen(in) - 2, "}}");
}

/* FN takes each of YES (NY) for a secret and none of NO (NN). */
static void judge(bool (*fn)(const char *), const char *const *yes, size_t ny,
		  const char *const *no, size_t nn)
{
	for (size_t i = 0; i < ny; i++)
		if (!fn(yes[i]))
			fail_msg("not taken for a secret: %s", yes[i]);
	for (size_t i = 0; i < nn; i++)
		if (fn(no[i]))
			fail_msg("taken for a secret: %s", no[i]);
}

/* An option that gives a command a secret (an outside review: git's
 * core.sshCommand = sshpass -p PASSWORD ssh, copied and read as it was);
 * and the options that give none, which must stay (a user's ssh port, a
 * file a token is read from, docker's user and group). */
static void test_an_option_that_gives_a_secret_is_one(void **state)
{
	(void)state;
	static const char *const secret[] = {
	    "sshpass -p Hunter2Sekrit ssh",
	    "sshpass -pHunter2Sekrit ssh",
	    "mysql -u app -pHunter2Sekrit db",
	    "openssl enc -aes-256-cbc -pass pass:Hunter2Sekrit",
	    "curl -u octo:Hunter2Sekrit https://api.example.com/",
	    "curl --user=octo:Hunter2Sekrit https://api.example.com/",
	    "tool --password Hunter2Sekrit",
	    "tool --token=Hunter2Sekrit",
	    "tool --api-key 'Hunter2Sekrit'",
	    "keytool -list -storepass Hunter2Sekrit",
	    "sh -c 'deploy --client-secret Hunter2Sekrit'",
	    /* (a review of these) a quote or a value right after the option,
	     * a variable set in the command, a helper's printed password, a
	     * query's key, more keys by their prefix */
	    "sshpass -p'Hunter2Sekrit' ssh",
	    "mysql -u root -p\"Hunter2Sekrit\" app",
	    "curl -u'octo:Hunter2Sekrit' https://api.example.com/",
	    "curl -uocto:Hunter2Sekrit https://api.example.com/",
	    "PGPASSWORD=Hunter2Sekrit psql -h db",
	    "!AWS_SECRET_ACCESS_KEY=Hunter2Sekrit aws s3 ls",
	    "!f() { echo \"username=me\"; echo \"password=Hunter2Sekrit\"; }; f",
	    "printf 'username=me\\npassword=Hunter2Sekrit'",
	    "https://mcp.example.com/mcp?exaApiKey=Hunter2Sekrit",
	    "https://maps.example.com/api?key=Hunter2Sekrit",
	    "Authorization: Token Hunter2Sekrit",
	    "pay --sk sk_live_0123456789abcdef",
	    "sk-0123456789abcdefghijABCDEFGHIJ0123456789ab",
	    /* (a second review) openssl's -k, a header by its name's end, a
	     * bot's token in its URL, curl's --oauth2-bearer */
	    "openssl enc -aes-256-cbc -a -salt -k Sup3rS3cretPass",
	    "curl -s -H \"X-Vault-Token: hvs.CAESIJ2kZlZ0aXQ\" https://vault.example.com/",
	    "curl -H 'Circle-Token: 0123456789abcdef' https://ci.example.com/",
	    "curl https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/send",
	    "curl --oauth2-bearer abcdef0123456789abcdef0123456789",
	    "SLACK = \"https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/aBcDeFgHiJ\"",
	    /* (a fourth review: rules made for prose had let these in) */
	    "Basic dXNlcjpwYXNz",
	    "Bearer abcdefghijklmnopqrst",
	    "Authorization Bearer abcdefghijklmnop",
	    "env REDIS_PASS=hunter2 SMTP_PW=correcthorse",
	    "SMTP_AUTH=hunter2",
	};
	static const char *const none[] = {
	    "ssh -i ~/.ssh/id_work -p 2222",
	    "git push -u origin HEAD",
	    "docker run -u 1000:1000 img",
	    "tool --token-file ~/.config/tool/token",
	    "docker login --password-stdin registry.example",
	    "aws secretsmanager get-secret-value --secret-id prod/db",
	    "psql --no-password db",
	    "mkdir -p build",
	    "tool --password",
	    "tool --token --verbose",
	    "openssl enc -aes-256-cbc -pass file:/home/me/.key",
	    "openssl enc -aes-256-cbc -pass env:KEYVAR",
	    "gpg --default-key 3AA5C34371567BD2",
	    "curl --cookie-jar /tmp/cj https://api.example.com/",
	    "!f() { git fetch -u ${2:-origin} pull/$1/head:pr/$1; }; f",
	    "docker run -u root:root img",
	    "!f() { echo password=$(pass show github/token); }; f",
	    "curl -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.example.com/",
	    "PGPASSWORD=$DB_PASSWORD psql",
	    "https://api.example.com/v1?token=$TOKEN",
	    /* (a second review) variables in a header or a URL, a query's
	     * names that hold none, AWS's example key, a certificate, a
	     * document's placeholders */
	    "curl --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" https://gitlab.example/",
	    "curl -H \"x-api-key: $ANTHROPIC_API_KEY\" https://api.example.com/",
	    "git clone https://x-access-token:${GITHUB_TOKEN}@github.com/o/r",
	    "https://$GH_USER:$GH_TOKEN@github.com/o/r.git",
	    "https://jira.example/issues/?jql=project%3DABC&sort_key=created",
	    "gh api \"repos/o/r/actions/runs?per_page=100&page_token=\"",
	    "allowed = AKIAIOSFODNN7EXAMPLE",
	    "-----BEGIN CERTIFICATE-----MIIDdzCCAl+gAwIBAgIE",
	    "git clone https://USERNAME:TOKEN@github.com/org/repo",
	    "curl -u user:password https://api.example.com/ # docs",
	    "git commit -qm \"WIP: basic scaffolding\"",
	    "test_description='Basic porcelain support for subtrees",
	    "CLAUDE_CODE_SKIP_VERTEX_AUTH=1",
	    "cache_key=\"statusline-${USER}\"",
	};
	judge(env_secret_value, secret, sizeof(secret) / sizeof(secret[0]), none,
	      sizeof(none) / sizeof(none[0]));
}

/* A line of any text a seed copies (code, documents): what is surely a
 * secret where it stands, and (a review: 191 files of a real tree left
 * out, none holding one) the prose and code that are none. */
static void test_a_texts_line_is_judged_as_surely_a_secret_or_not(void **state)
{
	(void)state;
	static const char *const secret[] = {
	    "SLACK = 'https://hooks.slack.com/services/T1/B1/aBcDeFgHiJ123'",
	    "url = \"https://api.telegram.org/bot123456:ABCdefGhIJKlmNoPQRsTUVwxyZ/send\"",
	    "DB = 'postgres://app:Tr0ub4dor3xyz@db.example/app'",
	    "headers = {\"X-Vault-Token\": \"hvs.CAESIJ2kZlZ0aXQtdG9rZW4\"}",
	    "headers[\"Authorization\"] = \"token 3f9a2b7c1d8e3f6a0b5c9d2e7f1a4b8c\"",
	    "curl -H 'Authorization: Bearer 3f9a2b7c1d8e3f6a0b5c9d2e' https://api.example.com/",
	    "KEY = \"sk-ant-api03-Ab1Cd2Ef3Gh4Ij5Kl6\"",
	    "SENDGRID = \"SG.ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf\"",
	    "c = \"DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy0mF6cXV4Zm9v\"",
	    "-----BEGIN OPENSSH PRIVATE KEY-----",
	    /* (a fourth review) a header with a short credential, a token as
	     * a URL's user, a key inside a string, a constant in code */
	    "curl -H \"Authorization: Bearer hunter2hunter2\" https://api.example.com/",
	    "headers={\"Authorization\": \"Basic cm9vdDp0b29y\"}",
	    "curl -H \"x-api-key: hunter2hunter\" https://api.example.com/",
	    "git clone https://3f9a2b7c1d8e3f6a0b5c9d2e7f1a4b8c9d0e1f2a@github.com/o/r.git",
	    "KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----",
	    "PASSWORD = \"hunter2\"",
	    "export DB_PASS='correcthorsebattery'",
	    "SUPABASE_SERVICE_ROLE_KEY = \"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xl\"",
	};
	static const char *const none[] = {
	    "Basic usage:",
	    "* basic walking utilities that all the glob walker types use",
	    "\"\"\"Decide whether Authorization header should be removed when redirecting\"\"\"",
	    "'Authorization',",
	    "// Safest: a bearer token provided by a registry:",
	    "The API uses Bearer token auth; the token is in $DEPLOY_TOKEN.",
	    "npm_package_name",
	    "let npm_config_node_gyp = ''",
	    "from huggingface_hub import hf_hub_download",
	    "npm install git+ssh://git@github.com:npm/cli.git#v1.0.27",
	    "1. A fully qualified url: ssh://git@example.com/foo/bar.git",
	    "&lt;protocol&gt;://[&lt;user&gt;[:&lt;password&gt;]@]&lt;hostname&gt;",
	    "eg `--some-key=some-value`",
	    "*    id-token: write",
	    "_SK_START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"",
	    "{ Authorization: authHeader }",
	    "postgres://postgres@localhost:5432/app",
	    "allowed = AKIAIOSFODNN7EXAMPLE",
	    "key=\"-----BEGIN PRIVATE KEY-----\\nXXXX\\nXXXX\\n-----END PRIVATE KEY-----\"",
	    "const USE_CREDENTIALS = 'use-credentials'",
	    "TOKEN_URL = \"https://auth.example.com/token\"",
	    "Authorization: Bearer <token>",
	};
	judge(env_secret_in_text, secret, sizeof(secret) / sizeof(secret[0]), none,
	      sizeof(none) / sizeof(none[0]));
	/* a variable set: by a word any value; by its name's end only a key */
	assert_true(env_secret_assigned("PGPASSWORD", "hunter2"));
	assert_false(env_secret_assigned("cache_key", "\"statusline-${USER}\""));
	assert_false(env_secret_assigned("CLAUDE_CODE_SKIP_VERTEX_AUTH", "1"));
	assert_true(env_secret_assigned("STRIPE_KEY", "sk_live_0123456789abcdef"));
	assert_false(env_secret_assigned("GITHUB_TOKEN", "$GH_TOKEN"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_members_that_may_hold_a_secret_are_blanked),
	    cmocka_unit_test(test_an_option_that_gives_a_secret_is_one),
	    cmocka_unit_test(test_a_texts_line_is_judged_as_surely_a_secret_or_not),
	    cmocka_unit_test(test_the_rest_is_kept_byte_for_byte),
	    cmocka_unit_test(test_what_is_not_strict_json_is_refused),
	    cmocka_unit_test(test_nesting_is_limited),
	    cmocka_unit_test(test_names_said_are_cut_when_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
