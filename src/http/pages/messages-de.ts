// German words of the hosted pages: the same keys as the English catalogue (test/http/messages.test.ts checks).
import type { MessageCatalogue } from './messages.ts';

export const german = {
  'site.title': '{title} · {product}',
  'site.skip': 'Zum Formular springen',
  'site.footer': 'Geschützt durch {product}',
  'site.languages': 'Sprache',

  'field.email': 'E-Mail-Adresse',
  'field.password': 'Passwort',
  'field.newPassword': 'Neues Passwort',
  'field.currentPassword': 'Aktuelles Passwort',
  'field.newEmail': 'Neue E-Mail-Adresse',
  'field.passwordHint':
    'Mindestens {minimum} Zeichen. Ein langer Satz ist leicht zu merken; häufige Passwörter und Ihre E-Mail-Adresse werden abgelehnt.',
  'form.errorSummary': 'Es gibt ein Problem',

  'signIn.title': 'Anmelden',
  'signIn.heading': 'Bei {product} anmelden',
  'signIn.submit': 'Anmelden',
  'signIn.forgot': 'Passwort vergessen?',
  'signIn.noAccount': 'Neu hier?',
  'signIn.createAccount': 'Konto anlegen',
  'signIn.signedOut': 'Sie sind abgemeldet.',
  'signIn.passwordChanged': 'Ihr Passwort ist geändert. Melden Sie sich mit dem neuen an.',

  'signUp.title': 'Konto anlegen',
  'signUp.heading': 'Ihr {product}-Konto anlegen',
  'signUp.submit': 'Konto anlegen',
  'signUp.haveAccount': 'Sie haben schon ein Konto?',
  'signUp.signIn': 'Anmelden',
  'signUp.sentTitle': 'Sehen Sie in Ihr Postfach',
  'signUp.sent':
    'Wir haben einen Link an {email} gesendet. Öffnen Sie ihn, um Ihre Adresse zu bestätigen, und melden Sie sich dann an. Hat die Adresse schon ein Konto, sagt Ihnen die E-Mail, wie Sie wieder hineinkommen.',
  'signUp.continue': 'Weiter zur Anmeldung',

  'forgot.title': 'Passwort zurücksetzen',
  'forgot.intro':
    'Geben Sie die Adresse Ihres Kontos ein; wir senden Ihnen einen Link, mit dem Sie ein neues Passwort wählen.',
  'forgot.submit': 'Link zum Zurücksetzen senden',
  'forgot.sentTitle': 'Sehen Sie in Ihr Postfach',
  'forgot.sent':
    'Wenn {email} ein Konto hat, ist ein Link zum Zurücksetzen unterwegs. Er funktioniert eine Stunde lang.',
  'forgot.sentAny':
    'Wenn die Adresse ein Konto hat, ist ein Link zum Zurücksetzen unterwegs. Er funktioniert eine Stunde lang.',
  'forgot.back': 'Zurück zur Anmeldung',

  'account.title': 'Ihr Konto',
  'account.heading': 'Ihr {product}-Konto',
  'account.address': 'Angemeldet als',
  'account.verified': 'Bestätigt',
  'account.unverified': 'Noch nicht bestätigt: Öffnen Sie den Link aus unserer E-Mail',
  'account.sessions': 'Wo Sie angemeldet sind',
  'account.sessionThis': 'Dieses Gerät',
  'account.sessionStarted': 'Angemeldet {when}',
  'account.sessionLastSeen': 'zuletzt aktiv {when}',
  'account.sessionFrom': 'von {ip}',
  'account.unknownDevice': 'Unbekanntes Gerät',
  'account.deviceOn': '{browser} auf {system}',
  'account.today': 'heute',
  'account.timeUtc': '{day} {time} UTC',
  'account.endSession': 'Abmelden',
  'account.endSessionLabel': '{device} abmelden, angemeldet {when}',
  'account.endOthers': 'Überall sonst abmelden',
  'account.noOthers': 'Sie sind nur auf diesem Gerät angemeldet.',
  'account.changePassword': 'Passwort ändern',
  'account.changePasswordNote': 'Alle anderen Geräte werden abgemeldet.',
  'account.changePasswordSubmit': 'Passwort ändern',
  'account.changeEmail': 'E-Mail-Adresse ändern',
  'account.changeEmailNote':
    'Wir senden einen Link an die neue Adresse; die Änderung geschieht, wenn Sie ihn öffnen. Ihre jetzige Adresse wird ebenfalls benachrichtigt.',
  'account.changeEmailSubmit': 'Bestätigungslink senden',
  'account.delete': 'Konto löschen',
  'account.deleteNote':
    'Sie werden sofort überall abgemeldet. Wir senden Ihnen per E-Mail einen Link, mit dem Sie das Konto eine Zeit lang zurückholen können.',
  'account.deleteSubmit': 'Mein Konto löschen',
  'account.signOut': 'Abmelden',
  'account.notice.sessionEnded': 'Dieses Gerät ist abgemeldet.',
  'account.notice.othersEnded': 'Alle anderen Geräte sind abgemeldet.',
  'account.notice.passwordChanged': 'Ihr Passwort ist geändert; alle anderen Geräte sind abgemeldet.',
  'account.notice.emailChangeSent':
    'Wenn die neue Adresse verwendet werden kann, ist ein Bestätigungslink dorthin unterwegs. Ihre jetzige Adresse wurde benachrichtigt.',
  'account.notice.localeChanged': 'Gespeichert: Ihre Seiten und E-Mails sind ab jetzt auf Deutsch.',
  'account.language': 'Sprache',
  'account.languageNote': 'Die Seiten und die E-Mails Ihres Kontos verwenden diese Sprache.',
  'account.languageSubmit': 'Sprache speichern',
  'account.justNow': 'gerade eben',
  'field.language': 'Sprache Ihres Kontos',
  'error.localeInvalid': 'Wählen Sie eine der Sprachen aus der Liste.',

  'link.invalidTitle': 'Link ungültig',
  'link.continue': 'Weiter',

  'verify.title': 'E-Mail-Adresse bestätigen',
  'verify.intro': 'Drücken Sie die Schaltfläche, um diese Adresse für Ihr Konto zu bestätigen.',
  'verify.submit': 'Meine E-Mail-Adresse bestätigen',
  'verify.invalid':
    'Dieser Bestätigungslink ist ungültig, abgelaufen oder schon benutzt. Wenn Sie sich mit Ihrem Passwort anmelden, erhalten Sie einen neuen; haben Sie kein funktionierendes Passwort, setzen Sie es zurück.',
  'verify.doneTitle': 'E-Mail-Adresse bestätigt',
  'verify.done': 'Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden.',

  'reset.title': 'Neues Passwort wählen',
  'reset.note': 'Jedes bei Ihrem Konto angemeldete Gerät wird abgemeldet.',
  'reset.submit': 'Neues Passwort speichern',
  'reset.invalid':
    'Dieser Link zum Zurücksetzen ist ungültig, abgelaufen oder schon benutzt. Fordern Sie einen neuen an:',
  'reset.doneTitle': 'Passwort geändert',
  'reset.done': 'Ihr Passwort wurde zurückgesetzt. Sie können sich jetzt damit anmelden.',

  'emailChange.confirmTitle': 'Neue E-Mail-Adresse bestätigen',
  'emailChange.confirmIntro':
    'Drücken Sie die Schaltfläche, um Ihr Konto auf diese Adresse umzustellen. Jedes dort angemeldete Gerät wird abgemeldet.',
  'emailChange.confirmSubmit': 'Neue Adresse bestätigen',
  'emailChange.confirmInvalid':
    'Dieser Link ist ungültig, abgelaufen oder schon benutzt. Melden Sie sich mit Ihrer jetzigen Adresse an und fordern Sie die Änderung erneut an.',
  'emailChange.changedTitle': 'E-Mail-Adresse geändert',
  'emailChange.changed': 'Ihr Konto verwendet jetzt diese Adresse. Melden Sie sich ab sofort damit an.',
  'emailChange.cancelTitle': 'Änderung der E-Mail-Adresse stoppen',
  'emailChange.cancelIntro':
    'Drücken Sie die Schaltfläche, um die Änderung zu stoppen. War sie schon bestätigt, kommt Ihre alte Adresse zurück, jedes Gerät wird abgemeldet und Sie erhalten eine E-Mail, um ein neues Passwort zu wählen.',
  'emailChange.cancelSubmit': 'Änderung stoppen',
  'emailChange.cancelInvalid':
    'Dieser Link ist ungültig, abgelaufen oder schon benutzt. Wenn Sie sich nicht anmelden können, setzen Sie Ihr Passwort zurück.',
  'emailChange.voidedTitle': 'Änderung gestoppt',
  'emailChange.voided': 'Die E-Mail-Adresse Ihres Kontos bleibt, wie sie war.',
  'emailChange.restoredTitle': 'Konto wiederhergestellt',
  'emailChange.restored':
    'Ihre alte Adresse ist zurück und alle wurden abgemeldet. Wir haben ihr einen Link gesendet, um ein neues Passwort zu wählen.',

  'restore.title': 'Konto wiederherstellen',
  'restore.intro':
    'Drücken Sie die Schaltfläche, um Ihr Konto mit seinem Passwort zurückzuholen, wie es war.',
  'restore.submit': 'Mein Konto wiederherstellen',
  'restore.invalid':
    'Dieser Link zum Wiederherstellen ist ungültig, abgelaufen oder schon benutzt. Nach Ablauf der Frist kann die Adresse neu registriert werden.',
  'restore.doneTitle': 'Konto wiederhergestellt',
  'restore.done': 'Ihr Konto ist zurück. Sie können sich mit Ihrem Passwort anmelden.',
  'deleted.title': 'Konto gelöscht',
  'deleted.body':
    'Ihr Konto ist gelöscht und Sie sind überall abgemeldet. Wir haben einen Link zum Wiederherstellen an seine Adresse gesendet.',

  'error.title': 'Etwas ist schiefgegangen',
  'error.crossSite':
    'Dieses Formular wurde von einer anderen Website gesendet und deshalb abgelehnt. Öffnen Sie diese Seite direkt und versuchen Sie es erneut.',
  'error.emailMissing': 'Geben Sie Ihre E-Mail-Adresse ein.',
  'error.emailInvalid': 'Geben Sie eine E-Mail-Adresse wie name@example.com ein.',
  'error.passwordMissing': 'Geben Sie Ihr Passwort ein.',
  'error.newPasswordMissing': 'Wählen Sie ein Passwort.',
  'error.currentPasswordMissing': 'Geben Sie Ihr aktuelles Passwort ein.',
  'error.invalid_credentials': 'E-Mail-Adresse oder Passwort stimmen nicht.',
  'error.email_not_verified':
    'Bestätigen Sie zuerst Ihre E-Mail-Adresse: Wir haben Ihnen gerade einen neuen Link gesendet. Öffnen Sie ihn und melden Sie sich dann an.',
  'error.account_disabled':
    'Dieses Konto ist abgeschaltet. Wenden Sie sich an die Betreiber dieses Dienstes.',
  'error.invalid_current_password': 'Ihr aktuelles Passwort stimmt nicht.',
  'error.rate_limited': 'Zu viele Versuche. Versuchen Sie es in {minutes} Min. erneut.',
  'error.password_too_short': 'Verwenden Sie mindestens {minimum} Zeichen.',
  'error.password_too_long': 'Verwenden Sie höchstens 128 Zeichen.',
  'error.password_contains_email': 'Wählen Sie ein Passwort, das Ihre E-Mail-Adresse nicht enthält.',
  'error.password_too_common':
    'Dieses Passwort ist sehr verbreitet und daher leicht zu erraten. Wählen Sie ein längeres oder weniger übliches.',
  'error.invalid_token': 'Dieser Link ist ungültig, abgelaufen oder schon benutzt.',
  'error.email_taken': 'Diese Adresse gehört jetzt zu einem anderen Konto.',
  'error.not_authenticated': 'Sie sind abgemeldet. Melden Sie sich erneut an.',
  'error.other': 'Das hat nicht geklappt. Versuchen Sie es erneut.',
} as const satisfies MessageCatalogue;
