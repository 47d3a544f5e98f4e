package synth

// Names and client strings the generator draws from. Fixed lists, so a seed
// always gives the same tenant.

// Domain is the tenant's mail domain.
const Domain = "example-hospital.org"

var firstNames = []string{
	"anna", "lukas", "lena", "jonas", "laura", "felix", "sarah", "paul",
	"julia", "leon", "lisa", "finn", "marie", "elias", "hannah", "noah",
	"sophie", "ben", "emma", "luis", "mia", "max", "lea", "tim",
	"katharina", "jan", "johanna", "david", "clara", "simon", "nina", "tobias",
	"carla", "moritz", "jana", "philipp", "eva", "niklas", "helena", "stefan",
	"sabine", "thomas", "andrea", "michael", "petra", "markus", "claudia", "andreas",
	"monika", "frank", "susanne", "matthias", "birgit", "christian", "karin", "daniel",
	"emily", "james", "olivia", "william", "ava", "ethan", "chloe", "ryan",
	"grace", "nathan", "isabel", "aaron", "zoe", "marco", "giulia", "pierre",
	"camille", "lucas", "ines", "oliver", "amelia", "georg", "theresa", "florian",
}

var lastNames = []string{
	"mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker",
	"schulz", "hoffmann", "koch", "richter", "klein", "wolf", "schroeder", "neumann",
	"schwarz", "braun", "zimmermann", "krueger", "hofmann", "hartmann", "lange", "schmitt",
	"werner", "krause", "meier", "lehmann", "schmid", "schulze", "maier", "koehler",
	"herrmann", "walter", "koenig", "mayer", "huber", "kaiser", "fuchs", "peters",
	"lang", "scholz", "moeller", "weiss", "jung", "hahn", "schubert", "vogel",
	"friedrich", "keller", "guenther", "frank", "berger", "winkler", "roth", "beck",
	"lorenz", "baumann", "franke", "albrecht", "smith", "johnson", "brown", "miller",
	"davis", "wilson", "taylor", "clark", "lewis", "walker", "martin", "dubois",
	"moreau", "rossi", "bianchi", "novak", "horvat", "gruber", "steiner", "bauer",
}

// Browser user agents of laptops, one picked per device.
var laptopAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
	"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
}

// Mail clients of phones (ActiveSync).
var phoneAgents = []string{
	"Apple-iPhone15C2/2103.62",
	"Apple-iPhone14C5/2102.54",
	"Outlook-iOS/723.4027091.prod.iphone (4.2409.0)",
	"Outlook-Android/2.2.0",
	"Android-Mail/2024.01.07.598786012.Release",
	"SAMSUNG-SM-S911B/101.140201",
}

// Desktop clients that poll over IMAP.
var pollerAgents = []string{
	"Thunderbird/115.8.1",
	"AppleMail/3774.400.31",
	"eM Client/9.2.2157.0",
}

// Clients attackers use: scripts, headless browsers, legacy-auth tools.
var attackerAgents = []string{
	"python-requests/2.31.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.0.0 Safari/537.36",
	"BAV2ROPC",
	"okhttp/4.9.2",
	"Go-http-client/1.1",
}

// Private mail domains users forward their own mail to.
var personalDomains = []string{"gmail.com", "gmx.de", "web.de", "outlook.com", "yahoo.com"}

// Domains attackers forward stolen mail to.
var dropDomains = []string{
	"secure-docs-archive.net", "mailbackup-service.com", "protonmail.com",
	"example-hospltal.org", "invoice-portal.co",
}

// Names of the rules attackers hide behind.
var dropRuleNames = []string{".", "..", "RSS", "Archive", "Sync"}
