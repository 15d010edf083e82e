package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaosbench/chaosbench/openapi"
	"github.com/chaosbench/chaosbench/scenarios"
	"github.com/spf13/cobra"
)

func init() { register(newInitCmd) }

func newInitCmd() *cobra.Command {
	var spec, out, url string
	var force bool
	cmd := &cobra.Command{
		Use:   "init --openapi SPEC [-o FILE] [--url URL] [--force]",
		Short: "Write a starter scenario for your own API from its OpenAPI 3 document",
		Long: `Read an OpenAPI 3.0 or 3.1 document (YAML or JSON; $refs resolved, also to files beside it) and
write a starter scenario that declares your API's requests (docs/scenarios.md, "Start from an OpenAPI
document"): one op per operation, named from its operationId (else its method and path), with the
path's parameters as client variables (or {{pick ...}} of their enum), required query and header
parameters (a header described as an idempotency key becomes the op's idempotency), a JSON or form
body from the request body's example or schema (random strings, integers within bounds, true),
expect from the documented 2xx statuses, and a mix that weighs every op 1 (a GET /health 0: it
becomes target.health). Security schemes: HTTP Basic becomes basic:, a bearer token an Authorization
header with {{token}}, an API key its header with a variable, with a commented client.setup login
to fill in. target.url is --url, else the document's first server when it is on this machine (a
path in either prefixes every op's path), else http://127.0.0.1:8080. Invariants are left as a
comment: the document does not say what must hold.

The starter is loaded as 'chaosbench validate' would before init says it is done; values the
document cannot give (credentials, ids that exist, the session's setup, the load) are marked TODO
in it: edit them, then 'chaosbench try FILE'. Should it not load, init still writes it and prints
each problem with its line, to fix by hand.

Without -o the starter goes to stdout and the notes to stderr; -o refuses to replace an existing
file unless --force. Exit 2 when the document cannot be read (a missing file, a YAML or JSON error:
with its line), is not OpenAPI 3 (Swagger 2 is refused: convert it first) or has no operation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if spec == "" {
				return badInput("--openapi SPEC is required: the OpenAPI 3 document (YAML or JSON) to start from")
			}
			raw, err := os.ReadFile(spec)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return badInput("%s: no such file", spec)
				}
				return badInput("%s: %v", spec, err)
			}
			if out != "" && !force {
				if _, err := os.Stat(out); err == nil {
					return badInput("%s exists: give --force to replace it, or another -o", out)
				}
			}
			opts := []openapi.Option{openapi.WithSource(spec), openapi.WithBasePath(filepath.Dir(spec))}
			if url != "" {
				opts = append(opts, openapi.WithURL(url))
			}
			text, notes, err := openapi.Starter(raw, opts...)
			if err != nil {
				return badInput("%s: %v", spec, err)
			}
			name := out
			if name == "" {
				name = "starter.yaml"
			}
			_, loadErr := scenarios.Parse(name, text)

			if out == "" {
				if _, err := cmd.OutOrStdout().Write(text); err != nil {
					return err
				}
			} else if err := os.WriteFile(out, text, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			stderr := cmd.ErrOrStderr()
			where := "the starter"
			if out != "" {
				where = out
			}
			if loadErr != nil {
				// A starter that does not load is a gap of init's, or a document it cannot map: say what to fix.
				fmt.Fprintf(stderr, "init: %s does not load as a scenario yet; fix these before 'chaosbench validate':\n%v\n", where, loadErr)
			} else {
				fmt.Fprintf(stderr, "init: wrote %s from %s; it loads as a scenario. Fill in what its TODO comments name, then 'chaosbench try %s':\n",
					where, spec, tryName(out))
			}
			for _, n := range notes {
				fmt.Fprintf(stderr, "  - %s\n", n)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec, "openapi", "", "the OpenAPI 3 document (YAML or JSON) to start from")
	f.StringVarP(&out, "output", "o", "", "write the starter to this file (default: stdout)")
	f.StringVar(&url, "url", "", "target.url of the starter, e.g. http://127.0.0.1:8080 (default: the document's first server on this machine)")
	f.BoolVar(&force, "force", false, "replace the -o file if it exists")
	return cmd
}

func tryName(out string) string {
	if out == "" {
		return "FILE"
	}
	if strings.ContainsAny(out, " \t'\"") {
		return fmt.Sprintf("%q", out)
	}
	return out
}
