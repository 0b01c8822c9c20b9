package web

import (
	"net/http"
	"strings"
)

// The one-time link pages (/l/ and /j/) are plain server pages with no script: they speak the
// browser's language (Accept-Language), English or French, like the pages they lead to.

// frenchLinkWords are those pages' sentences in French, keyed by the English ones.
var frenchLinkWords = map[string]string{
	"Telehealth":    "Téléconsultation",
	"Sign in":       "Se connecter",
	"Open the call": "Ouvrir l'appel",
	"Sign in to the clinician's panel. This link works once.":               "Connexion au panneau du praticien. Ce lien ne fonctionne qu'une fois.",
	"Open the session's call page. This link works once.":                   "Ouvrir la page d'appel de la séance. Ce lien ne fonctionne qu'une fois.",
	"Open the link itself, not from another site.":                          "Ouvrez le lien lui-même, pas depuis un autre site.",
	"Too many attempts. Please wait a minute and try again.":                "Trop de tentatives. Patientez une minute puis réessayez.",
	"This link was already used or has expired. Ask the bot for a new one.": "Ce lien a déjà servi ou a expiré. Demandez-en un nouveau au bot.",
	"Something went wrong on our side. Please try again.":                   "Un problème est survenu de notre côté. Veuillez réessayer.",
	"This session is over.":                                                 "Cette séance est terminée.",
}

// browserLang is "fr" when the browser prefers French to English, else "en". Browsers list
// their languages most preferred first.
func browserLang(r *http.Request) string {
	for _, tag := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag = strings.ToLower(strings.TrimSpace(tag))
		switch {
		case strings.HasPrefix(tag, "fr"):
			return "fr"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// inLang is an English sentence of the link pages in lang; one without a translation stays.
func inLang(lang, english string) string {
	if fr, ok := frenchLinkWords[english]; ok && lang == "fr" {
		return fr
	}
	return english
}
