// Package config loads the rotator's YAML configuration. It decodes the file
// strictly, expands environment variables, applies defaults and validates
// everything in one pass, reporting each problem as
// "file:line: key.path: message".
//
// # Strict decoding
//
// Unknown keys, keys written twice, a list where a mapping belongs and
// values of the wrong type are all problems; an unknown key comes with the
// closest known key as a suggestion. Anchors, aliases and "<<" merge keys
// work. A file holds exactly one YAML document.
//
// # Environment variables
//
// Values (never keys) may refer to environment variables:
//
//	${NAME}           the value of NAME; an unset NAME is a problem
//	${NAME:-default}  the value of NAME, or default when NAME is unset or empty
//	$$                a literal $
//
// A $ followed by anything else is kept as written, so Go templates
// ({{ $x := .Token }}) and shell snippets ("$(cat pidfile)") need no
// escaping. The substituted text is never parsed as YAML: it cannot add
// keys. An unquoted reference takes the type of what it expands to, so
// "concurrency: ${WORKERS}" is a number; a quoted one stays text.
// LoadOptions.ExpandEnv turns expansion off.
//
// # Relative paths
//
// A relative file path is resolved against the directory of the
// configuration file, not the working directory: state_dir, the credentials
// files, file and envfile sink paths, ca_file, token_file, role_id_file,
// secret_id_file, jwt_file, client_token_file, pid_file, secret_file, and a
// hook's program (command[0]) when it contains a slash. A program without a
// slash is looked up in PATH.
//
// # Schedules
//
// See ParseSchedule: five cron fields or a descriptor, with an optional
// CRON_TZ= prefix; no seconds field.
package config
