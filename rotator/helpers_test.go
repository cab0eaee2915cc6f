package rotator

import "github.com/firstline-rotator/firstline-rotator/secret"

func liveToken() secret.String { return secret.New("header.payload.signature") }
