// AuthenticationCommands.cs (STARTTLS, LOGIN, AUTHENTICATE) is reworked apart with its own using
// lines; until it names Imap.Parsing itself, the ImapReader its commands take is found through this.
global using MailAuth.Server.Imap.Parsing;
