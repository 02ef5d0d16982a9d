// Kommunale tjenester: a citizen's decided and ongoing municipal services (pilot 1).
// One EpisodeOfCare per vedtak; K1–K9 refer to information-model.md §2.3 "K".

Profile: SkKommunalTjeneste
Parent: EpisodeOfCare
Id: sk-kommunal-tjeneste
Title: "Kommunal tjeneste (vedtak)"
Description: "A decided or ongoing municipal health and care service (vedtak), as exposed by the information service Kommunale tjenester."
* insert SandboxProfile
* obeys sk-period-order and sk-vedtak-review-after-start and sk-vedtak-identifier and sk-kpr-coding
// K4, K7, K8
* extension contains
    Vedtakstimer named vedtakstimer 0..1 MS and
    Revurderingsdato named revurderingsdato 0..1 MS and
    Vedtakstekst named vedtakstekst 0..1 MS
* extension[vedtakstimer] ^short = "K4 Omfang: vedtakstimer (h/wk)"
* extension[revurderingsdato] ^short = "K7 Revurderingsdato"
* extension[vedtakstekst] ^short = "K8 Vedtakstekst (restricted; not exposed by default)"
// K9 decision id
* identifier 1..1 MS
* identifier ^short = "K9 Unikt referansenummer (vedtak id)"
* identifier.system 1..1 MS
* identifier.value 1..1 MS
// K3
* status MS
* status ^short = "K3 Aktiv / inaktiv"
// K1 + K2
* type 1..1 MS
* type ^short = "K1 local code and text; K2 national service type"
* type.coding 1..* MS
* type.coding ^slicing.discriminator.type = #value
* type.coding ^slicing.discriminator.path = "system"
* type.coding ^slicing.rules = #open
* type.coding ^slicing.description = "The national KPR coding, plus the municipality's own local coding (system lokal-tjeneste-<kommunenummer>)."
* type.coding contains kpr 1..1 MS
* type.coding[kpr] ^short = "K2 Tjenestetype (KPR/IPLOS)"
* type.coding[kpr].system 1..1 MS
* type.coding[kpr].system = "https://sandkasse.no/fhir/CodeSystem/kpr-tjenestetype" (exactly)
* type.coding[kpr].code 1..1 MS
* type.coding[kpr] from KprTjenestetypeVS (required)
* type.text 1..1 MS
* type.text ^short = "K1 Tjenestens beskrivende tekst i avgivende system"
* patient MS
* patient only Reference(SkPatient)
// K9 service location
* managingOrganization 1..1 MS
* managingOrganization only Reference(SkOrganization)
* managingOrganization ^short = "K9 Tilhørighet til tjenestested"
// K5, K6
* period 1..1 MS
* period.start 1..1 MS
* period.start ^short = "K5 Startdato (iverksatt)"
* period.end MS
* period.end ^short = "K6 Sluttdato / avslutningsdato"
* careManager MS
* careManager ^short = "Saksbehandler who made the vedtak"
