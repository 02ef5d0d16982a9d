// Extensions of the guide.

// A copy of the *shape* of HL7 Norway's no-basis extension (package hl7.fhir.no.basis), with the
// same canonical URL, because the no-basis package cannot be downloaded in this offline build.
// Only what sandkasse exchanges is kept: a Coding with the 4-digit kommunenummer on Address.district.
// Drop this definition as soon as hl7.fhir.no.basis can be a dependency of the guide.
Extension: NoBasisMunicipalitycode
Id: no-basis-municipalitycode
Title: "no-basis-municipalitycode (local copy)"
Description: "Kommunenummer: the 4-digit municipality number of an address. Local copy of the shape of HL7 Norway's no-basis extension with the same canonical URL, shipped because hl7.fhir.no.basis is not reachable offline."
Context: Address.district
* ^url = "http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode"
* ^publisher = "HL7 Norway (shape); local copy by sandkasse"
* value[x] only Coding
* valueCoding 1..1 MS
* valueCoding.system 1..1 MS
* valueCoding.system = $kommunenummer (exactly)
* valueCoding.code 1..1 MS
* valueCoding from KommunenummerVS (required)
* obeys sk-kommunenummer-format

Extension: Vedtakstimer
Id: vedtakstimer
Title: "Vedtakstimer (decided hours)"
Description: "K4: the scope of a decided municipal service, as hours per week (UCUM h/wk)."
Context: EpisodeOfCare
* value[x] only Quantity
* valueQuantity 1..1 MS
* valueQuantity.value 1..1 MS
* valueQuantity.system 1..1 MS
* valueQuantity.system = $ucum (exactly)
* valueQuantity.code 1..1 MS
* valueQuantity.code = #h/wk (exactly)
* valueQuantity obeys sk-nonnegative-quantity

Extension: Revurderingsdato
Id: revurderingsdato
Title: "Revurderingsdato (review date)"
Description: "K7: the date a vedtak is due for review."
Context: EpisodeOfCare
* value[x] only date
* valueDate 1..1 MS

Extension: Vedtakstekst
Id: vedtakstekst
Title: "Vedtakstekst (decision text, restricted)"
Description: "K8: free text of the vedtak (opplysninger, begrunnelse, melding til bruker). Restricted by data minimisation: the platform does not expose it to consumers by default."
Context: EpisodeOfCare
* value[x] only string
* valueString 1..1 MS

Extension: FixHint
Id: fix-hint
Title: "Fix hint"
Description: "On an OperationOutcome issue from sandkasse: a concrete, actionable fix for the issue (the same text is also in diagnostics)."
Context: OperationOutcome.issue
* value[x] only string
* valueString 1..1
