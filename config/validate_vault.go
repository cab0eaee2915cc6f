package config

import "net/url"

// vaultMethodKeys says which auth keys belong to which method.
var vaultMethodKeys = []struct {
	key, method string
	set         func(a VaultAuth) bool
}{
	{"token_file", "token", func(a VaultAuth) bool { return a.TokenFile != "" }},
	{"role_id", "approle", func(a VaultAuth) bool { return a.RoleID != "" }},
	{"role_id_file", "approle", func(a VaultAuth) bool { return a.RoleIDFile != "" }},
	{"secret_id_file", "approle", func(a VaultAuth) bool { return a.SecretIDFile != "" }},
	{"wrapped", "approle", func(a VaultAuth) bool { return a.Wrapped }},
	{"role", "kubernetes", func(a VaultAuth) bool { return a.Role != "" }},
	{"jwt_file", "kubernetes", func(a VaultAuth) bool { return a.JWTFile != "" }},
}

// vault checks the top-level vault block.
func (k *checker) vault(v *Vault) {
	if v.Address == "" {
		k.add("vault.address", "required; set vault.address or the VAULT_ADDR "+
			"environment variable")
	} else if u, err := url.Parse(v.Address); err != nil || u.Host == "" ||
		(u.Scheme != "https" && u.Scheme != "http") {
		k.add("vault.address", "is not an http or https URL; write it like "+
			"https://vault.example.com:8200")
	}
	k.vaultAuth(v.Auth)
}

// vaultAuth checks vault.auth for its method.
func (k *checker) vaultAuth(a VaultAuth) {
	const path = "vault.auth"
	switch a.Method {
	case "token", "approle", "kubernetes":
	case "":
		k.add(path+".method", "required; use token, approle or kubernetes")
		return
	default:
		k.addf(path+".method", "%q is not a Vault auth method; use token, approle or "+
			"kubernetes", a.Method)
		return
	}

	for _, mk := range vaultMethodKeys {
		if mk.method != a.Method && mk.set(a) {
			k.addf(path+"."+mk.key, "applies only to the %s method", mk.method)
		}
	}
	k.vaultPath(path+".mount", a.Mount, "the path the auth method is mounted at")

	switch a.Method {
	case "token":
		if _, ok := k.lookup("VAULT_TOKEN"); a.TokenFile == "" && !ok {
			k.add(path+".token_file", "required unless the VAULT_TOKEN environment "+
				"variable is set")
		}
	case "approle":
		k.approle(path, a)
	case "kubernetes":
		if a.Role == "" {
			k.add(path+".role", "required for the kubernetes method")
		}
	}
}

func (k *checker) approle(path string, a VaultAuth) {
	switch {
	case a.RoleID != "" && a.RoleIDFile != "":
		k.add(path+".role_id_file", "set only one of role_id and role_id_file")
	case a.RoleID == "" && a.RoleIDFile == "":
		k.add(path+".role_id", "required; set role_id or role_id_file")
	}
	if a.SecretIDFile == "" {
		k.add(path+".secret_id_file", "required for the approle method")
	}
}
