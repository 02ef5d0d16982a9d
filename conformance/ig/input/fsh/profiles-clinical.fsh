// The supporting clinical resources: problems, allergies and critical information, medication,
// care plans per nursing problem area, functional assessment, social history, next of kin,
// clinical documents, blocks (sperring) and advance directives, provenance and audit.

Profile: SkCondition
Parent: Condition
Id: sk-condition
Title: "sandkasse Condition"
Description: "A problem or diagnosis, coded in ICPC-2 (fastlege, legevakt) or ICD-10 (specialist care)."
* insert SandboxProfile
* obeys sk-condition-code-system
* clinicalStatus MS
* verificationStatus MS
* category MS
* code 1..1 MS
* code from ConditionCodeVS (extensible)
* subject MS
* subject only Reference(SkPatient)
* onset[x] MS
* abatement[x] MS
* recordedDate MS
* recorder MS
* asserter MS
* note MS

Profile: SkAllergyIntolerance
Parent: AllergyIntolerance
Id: sk-allergyintolerance
Title: "sandkasse AllergyIntolerance"
Description: "An allergy or intolerance, with its criticality (asked for at first contact, e.g. at the legevakt)."
* insert SandboxProfile
* clinicalStatus MS
* verificationStatus MS
* type MS
* category MS
* criticality MS
* code 1..1 MS
* code from AllergyCodeVS (extensible)
* patient MS
* patient only Reference(SkPatient)
* onset[x] MS
* recordedDate MS
* recorder MS
* reaction MS
* reaction.substance MS
* reaction.manifestation MS
* reaction.severity MS

Profile: SkCriticalInformation
Parent: Flag
Id: sk-critical-information
Title: "Kritisk informasjon"
Description: "Critical information (kritisk informasjon) that must be visible at first contact, shaped after Kjernejournal's critical information."
* insert SandboxProfile
* status MS
* category MS
* code MS
* code from KritiskInformasjonVS (extensible)
* subject MS
* subject only Reference(SkPatient)
* period MS
* author MS

Profile: SkMedicationStatement
Parent: MedicationStatement
Id: sk-medicationstatement
Title: "sandkasse MedicationStatement"
Description: "A medication the patient uses, coded in ATC, with the reason it was started (reasonReference → Condition)."
* insert SandboxProfile
* status MS
* medication[x] MS
* medication[x] only CodeableConcept
* medicationCodeableConcept from AtcVS (extensible)
* subject MS
* subject only Reference(SkPatient)
* effective[x] MS
* dateAsserted MS
* informationSource MS
* reasonReference MS
* reasonReference only Reference(SkCondition)
* dosage MS
* dosage.text MS
* dosage.asNeeded[x] MS

Profile: SkCarePlan
Parent: CarePlan
Id: sk-careplan
Title: "Pleieplan per problemområde"
Description: "A municipal care/treatment plan for one nursing problem area (situation, goal, tiltak); versioned, because its history matters."
* insert SandboxProfile
* obeys sk-careplan-problemomrade
* status MS
* intent MS
* category 1..* MS
* category from SykepleieProblemomradeVS (extensible)
* title MS
* description MS
* subject MS
* subject only Reference(SkPatient)
* period MS
* author MS
* addresses MS
* goal MS
* activity MS
* activity.detail MS
* activity.detail.status MS
* activity.detail.description MS
* note MS

Profile: SkFunctionalAssessment
Parent: Observation
Id: sk-functional-assessment
Title: "IPLOS funksjonsvurdering"
Description: "One IPLOS/KPR functional variable, scored 1–5 or 9 (not relevant)."
* insert SandboxProfile
* obeys sk-iplos-score
* status MS
* insert CategorySlice(survey, $obscat, survey)
* code MS
* code from IplosFunksjonVS (required)
* subject 1..1 MS
* subject only Reference(SkPatient)
* effective[x] 1..1 MS
* performer MS
* value[x] 1..1 MS
* value[x] only integer

Profile: SkSocialHistory
Parent: Observation
Id: sk-social-history
Title: "Sosial anamnese"
Description: "Social history: smoking, alcohol, occupation, education, social circumstances."
* insert SandboxProfile
* status MS
* insert CategorySlice(socialHistory, $obscat, social-history)
* code MS
* code from SocialHistoryCodeVS (extensible)
* subject 1..1 MS
* subject only Reference(SkPatient)
* effective[x] MS
* value[x] MS

Profile: SkRelatedPerson
Parent: RelatedPerson
Id: sk-relatedperson
Title: "Pårørende"
Description: "Next of kin (nærmeste pårørende), guardian (verge) or other relative."
* insert SandboxProfile
* active MS
* patient MS
* patient only Reference(SkPatient)
* relationship 1..* MS
* name 1..* MS
* telecom MS
* address MS

Profile: SkDocumentReference
Parent: DocumentReference
Id: sk-documentreference
Title: "Journaldokument"
Description: "A clinical document or note. Notes for internal use only carry meta.security R (restricted) and are not shared with external consumers (except the patient)."
* insert SandboxProfile
* meta.security MS
* meta.security ^short = "v3-Confidentiality#R marks an internal-only note"
* status MS
* type 1..1 MS
* type from DocumentTypeVS (extensible)
* category MS
* subject 1..1 MS
* subject only Reference(SkPatient)
* date MS
* author MS
* custodian MS
* securityLabel MS
* content MS
* content.attachment MS
* content.attachment.contentType MS
* content.attachment.data MS
* content.attachment.url MS
* content.attachment.title MS
* context.period MS

Profile: SkSperring
Parent: Consent
Id: sk-sperring
Title: "Sperring"
Description: "A patient's block: data, or access by a named party, that must not be shared. The platform honours it on every read."
* insert SandboxProfile
* obeys sk-sperring-actor-or-class
* status MS
* scope MS
* scope = $consentscope#patient-privacy
* category 1..* MS
* patient 1..1 MS
* patient only Reference(SkPatient)
* dateTime MS
* performer MS
* organization MS
* policyRule MS
* provision 1..1 MS
* provision.type 1..1 MS
* provision.type = #deny
* provision.period MS
* provision.actor MS
* provision.actor.role MS
* provision.actor.reference MS
* provision.code MS
* provision.code from SperretypeVS (extensible)
* provision.class MS
* provision.data MS
* provision.data.reference MS

Profile: SkAdvanceDirective
Parent: Consent
Id: sk-advance-directive
Title: "Livsforlengende behandling / HLR minus"
Description: "An advance directive, e.g. not for resuscitation (HLR minus, DNR); critical information at first contact."
* insert SandboxProfile
* status MS
* scope MS
* scope = $consentscope#adr
* category 1..* MS
* patient 1..1 MS
* patient only Reference(SkPatient)
* dateTime MS
* performer MS
* organization MS
* policy MS
* sourceAttachment MS
* provision 1..1 MS
* provision.type MS
* provision.code MS
* provision.period MS

Profile: SkProvenance
Parent: Provenance
Id: sk-provenance
Title: "sandkasse Provenance"
Description: "Who registered what, where and when: the author, the organisation on whose behalf, and the source system."
* insert SandboxProfile
* target MS
* recorded MS
* activity MS
* agent MS
* agent.type MS
* agent.who MS
* agent.onBehalfOf 1..1 MS
* agent.onBehalfOf only Reference(SkOrganization)
* entity 1..* MS
* entity.role MS
* entity.what MS
* entity.what ^short = "The source system (kildesystem), e.g. a Device with the EPJ's name and version"

Profile: SkAuditEvent
Parent: AuditEvent
Id: sk-auditevent
Title: "sandkasse AuditEvent"
Description: "One read or write on the platform: who, on behalf of which organisation, about which patient, what was done and why (purpose of use)."
* insert SandboxProfile
* type MS
* subtype MS
* action 1..1 MS
* recorded MS
* outcome MS
* purposeOfEvent 1..* MS
* purposeOfEvent from PurposeOfUseVS (extensible)
* agent MS
* agent.type MS
* agent.who MS
* agent.requestor MS
* agent.purposeOfUse MS
* source MS
* source.observer MS
* entity 1..* MS
* entity.what MS
* entity.type MS
* entity.role MS
