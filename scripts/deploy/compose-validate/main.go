// compose-validate loads a compose file the way Docker Compose does (compose-spec/compose-go: the
// compose-spec JSON schema, interpolation, merge keys, references between services, networks and
// volumes) and prints each service with its image and dependencies. It fails on anything Compose
// would refuse; podman-compose's own `config` checks almost nothing.
//
//	go run . -f deploy/compose.yaml [-profile kafka]...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type profiles []string

func (p *profiles) String() string     { return strings.Join(*p, ",") }
func (p *profiles) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	file := flag.String("f", "compose.yaml", "compose file")
	var active profiles
	flag.Var(&active, "profile", "profile to enable (repeatable)")
	flag.Parse()
	if err := validate(*file, active); err != nil {
		fmt.Fprintln(os.Stderr, "compose-validate:", err)
		os.Exit(1)
	}
}

func validate(file string, active []string) error {
	opts, err := cli.NewProjectOptions([]string{file}, cli.WithProfiles(active), cli.WithOsEnv, cli.WithDotEnv)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	names := project.ServiceNames()
	sort.Strings(names)
	label := strings.Join(active, ",")
	if label == "" {
		label = "none"
	}
	fmt.Printf("%s (profiles: %s): %d services\n", file, label, len(names))
	for _, name := range names {
		s := project.Services[name]
		deps := make([]string, 0, len(s.DependsOn))
		for dep, cfg := range s.DependsOn {
			deps = append(deps, dep+" "+strings.TrimPrefix(cfg.Condition, "service_"))
		}
		sort.Strings(deps)
		line := fmt.Sprintf("  %-11s %s", name, s.Image)
		if len(deps) > 0 {
			line += "  after " + strings.Join(deps, ", ")
		}
		fmt.Println(line)
	}
	return nil
}
