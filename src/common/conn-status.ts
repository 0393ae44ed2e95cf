/**
 * Connection status as /api/status reports it (the original's ConnStatus), for agents seen by an analyzer,
 * analyzers seen by an agent, and subscribers. ConnectTime is an RFC 3339 time, as Go encodes time.Time.
 */
export interface ConnStatus {
  ServiceType: string;
  ClientProtocol: 'json';
  Addr: string;
  Port: number;
  IsConnected: boolean;
  ConnectTime: string | null;
  RemoteHost: string;
  RemoteServiceType: string;
}
