package emulator

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultUsers are the demo accounts: an agent and an administrator with
// fixed passwords. They exist only in the emulator.
func DefaultUsers() []User {
	return []User{
		{Name: "demo-agent", Password: "demo-agent-password", Role: RoleAgent, ID: 1001},
		{Name: "demo-admin", Password: "demo-admin-password", Role: RoleAdmin, ID: 1002},
	}
}

// LoadUsers reads a YAML list of users (name, password, role, id). Every
// problem is reported, each naming the file, line and entry.
func LoadUsers(path string) ([]User, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read users file: %w", err)
	}

	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse users file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: no users; write a YAML list of "+
			"{name, password, role, id}", path)
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: want a non-empty YAML list of "+
			"{name, password, role, id}", path, list.Line)
	}

	users := make([]User, 0, len(list.Content))
	var problems []error
	for i, node := range list.Content {
		u, found := decodeUser(node)
		for _, p := range found {
			problems = append(problems, fmt.Errorf("%s:%d: %s: %s",
				path, p.line, entryName(i, u), p.text))
		}
		users = append(users, u)
	}
	problems = append(problems, duplicates(path, list, users)...)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return users, nil
}

func entryName(i int, u User) string {
	if u.Name == "" {
		return fmt.Sprintf("entry %d", i+1)
	}
	return fmt.Sprintf("entry %d (%q)", i+1, u.Name)
}

// problem is one mistake in a users file and the line it is on.
type problem struct {
	line int
	text string
}

// decodeUser reads one entry, refusing unknown keys and bad values.
func decodeUser(node *yaml.Node) (User, []problem) {
	var u User
	if node.Kind != yaml.MappingNode {
		return u, []problem{{node.Line, "want a mapping with name, password, role, id"}}
	}

	var found []problem
	lines := map[string]int{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i].Value, node.Content[i+1]
		lines[key] = value.Line
		var err error
		switch key {
		case "name":
			err = value.Decode(&u.Name)
		case "password":
			err = value.Decode(&u.Password)
		case "role":
			err = value.Decode(&u.Role)
		case "id":
			if value.Decode(&u.ID) != nil {
				err = fmt.Errorf("%q is not a whole number", value.Value)
			}
		default:
			err = errors.New("unknown key; the keys are name, password, role, id")
		}
		if err != nil {
			found = append(found, problem{value.Line, key + ": " + err.Error()})
		}
	}

	for _, p := range check(u) {
		found = append(found, problem{cmp.Or(lines[p.key], node.Line), p.key + ": " + p.text})
	}
	return u, found
}

// fieldProblem is a bad or missing value of one key.
type fieldProblem struct{ key, text string }

func check(u User) []fieldProblem {
	var found []fieldProblem
	if strings.TrimSpace(u.Name) == "" {
		found = append(found, fieldProblem{"name", "missing; every user needs a name"})
	}
	if u.Password == "" {
		found = append(found, fieldProblem{"password", "missing; every user needs a password"})
	}
	if u.Role != "" && u.Role != RoleAgent && u.Role != RoleAdmin {
		found = append(found, fieldProblem{"role",
			fmt.Sprintf("%q is not a role; write agent or admin", u.Role)})
	}
	if u.ID < 0 {
		found = append(found, fieldProblem{"id", fmt.Sprintf("%d is negative; leave it "+
			"out to number users automatically", u.ID)})
	}
	return found
}

// duplicates reports names and IDs used twice.
func duplicates(path string, list *yaml.Node, users []User) []error {
	var errs []error
	names, ids := map[string]int{}, map[int]int{}
	for i, u := range users {
		line := list.Content[i].Line
		if first, ok := names[u.Name]; ok && u.Name != "" {
			errs = append(errs, fmt.Errorf("%s:%d: %s: name: already used by entry %d",
				path, line, entryName(i, u), first+1))
		} else {
			names[u.Name] = i
		}
		if first, ok := ids[u.ID]; ok && u.ID != 0 {
			errs = append(errs, fmt.Errorf("%s:%d: %s: id: %d already used by entry %d",
				path, line, entryName(i, u), u.ID, first+1))
		} else {
			ids[u.ID] = i
		}
	}
	return errs
}
